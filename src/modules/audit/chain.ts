import { hash } from 'node:crypto';
import type { AuditEvent } from '../../kernel/db/schema.js';

/** What an event's hash covers: the whole row but its id and the hashes themselves. */
export type ChainedEvent = Omit<AuditEvent, 'id' | 'hash' | 'prev_hash'>;

export const GENESIS_HASH = Buffer.alloc(32);

/** JSON with object keys sorted at every depth, so the same event always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) {
    // Lists of keys (read events name every key they resolved): the same text, one call.
    if (value.every((item) => typeof item === 'string')) return JSON.stringify(value);
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The fields of a chained event in canonical (sorted) order: every one, checked at compile time. */
export const CHAINED_KEYS = [
  'actor_id', 'actor_name', 'actor_type', 'change', 'details', 'event_type', 'occurred_at', 'organization_id',
  'request_id', 'seq', 'source_ip', 'target_id', 'target_name', 'target_type', 'tool',
] as const satisfies readonly (keyof ChainedEvent)[];
const everyKeyListed: Exclude<keyof ChainedEvent, (typeof CHAINED_KEYS)[number]> extends never ? true : never = true;
void everyKeyListed;

/** What an event's input decides in its canonical text (see canonicalRow). */
export interface EventParts {
  /** `"change":…,"details":…,"event_type":…` */
  middle: string;
  /** `"target_id":…,"target_name":…,"target_type":…` */
  target: string;
}

type ScalarFields = Omit<ChainedEvent, 'details'>;

/**
 * The canonical text of an event's own fields, given its details' canonical text: the same
 * for every row that records this input (a cached resolution records one input on every read).
 */
export function eventParts(event: Pick<ScalarFields, 'change' | 'event_type' | 'target_id' | 'target_name' | 'target_type'>, canonicalDetails: string): EventParts {
  return {
    middle: `"change":${JSON.stringify(event.change)},"details":${canonicalDetails},"event_type":${JSON.stringify(event.event_type)}`,
    target: `"target_id":${JSON.stringify(event.target_id)},"target_name":${JSON.stringify(event.target_name)},"target_type":${JSON.stringify(event.target_type)}`,
  };
}

/**
 * canonicalJson of a row, written in CHAINED_KEYS' order around its input's kept parts: a read
 * event is one template instead of fifteen keys walked and sorted (issue #16: building and
 * hashing read events was a sixth of the resolve route's CPU on PostgreSQL). Every field must
 * be a string, a number or null (a row, not an input: chainRows turns undefined into null).
 */
export function canonicalRow(row: ScalarFields, parts: EventParts): string {
  return (
    `{"actor_id":${JSON.stringify(row.actor_id)},"actor_name":${JSON.stringify(row.actor_name)},"actor_type":${JSON.stringify(row.actor_type)},` +
    `${parts.middle},"occurred_at":"${row.occurred_at.toISOString()}","organization_id":${JSON.stringify(row.organization_id)},` +
    `"request_id":${JSON.stringify(row.request_id)},"seq":${JSON.stringify(row.seq)},"source_ip":${JSON.stringify(row.source_ip)},` +
    `${parts.target},"tool":${JSON.stringify(row.tool)}}`
  );
}

// One buffer for hashInput: a row's canonical text and the previous hash, hashed in one call.
let hashInput = Buffer.allocUnsafe(16 * 1024);

/** SPEC §6: hash = SHA-256(canonical event ‖ previous hash), from the event's canonical text. */
export function hashCanonical(canonical: string, previous: Buffer): Buffer {
  // One-shot hash() of the two in one buffer: a Hash object per row cost more than its hashing.
  const most = canonical.length * 3 + previous.length; // UTF-8 takes at most 3 bytes per UTF-16 unit
  if (hashInput.length < most) hashInput = Buffer.allocUnsafe(most * 2);
  const length = hashInput.write(canonical, 0, 'utf8');
  previous.copy(hashInput, length);
  return hash('sha256', hashInput.subarray(0, length + previous.length), 'buffer');
}

/** SPEC §6: hash = SHA-256(canonical event ‖ previous hash). */
export function chainHash(event: ChainedEvent, previous: Buffer): Buffer {
  return hashCanonical(canonicalJson({ ...event, occurred_at: event.occurred_at.toISOString() }), previous);
}
