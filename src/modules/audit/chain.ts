import { createHash } from 'node:crypto';
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
const CHAINED_KEYS = [
  'actor_id', 'actor_name', 'actor_type', 'change', 'details', 'event_type', 'occurred_at', 'organization_id',
  'request_id', 'seq', 'source_ip', 'target_id', 'target_name', 'target_type', 'tool',
] as const satisfies readonly (keyof ChainedEvent)[];
const everyKeyListed: Exclude<keyof ChainedEvent, (typeof CHAINED_KEYS)[number]> extends never ? true : never = true;
void everyKeyListed;

/**
 * The canonical text of an event whose details' canonical text is already known (kept for a
 * details object that repeats, like a cached resolution's): canonicalJson of the event, built
 * from the constant key order instead of sorting each event's keys again. Only the
 * ChainedEvent fields of `event` count (a row's own `details` text and hashes are not read).
 */
export function canonicalEvent(event: Omit<ChainedEvent, 'details'>, canonicalDetails: string): string {
  let text = '';
  for (const key of CHAINED_KEYS) {
    if (key === 'details') {
      text += `${text === '' ? '{' : ','}"details":${canonicalDetails}`;
      continue;
    }
    const value = key === 'occurred_at' ? event.occurred_at.toISOString() : event[key];
    if (value === undefined) continue;
    text += `${text === '' ? '{' : ','}"${key}":${canonicalJson(value)}`;
  }
  return `${text}}`;
}

/** SPEC §6: hash = SHA-256(canonical event ‖ previous hash), from the event's canonical text. */
export function hashCanonical(canonical: string, previous: Buffer): Buffer {
  return createHash('sha256').update(canonical).update(previous).digest();
}

/** SPEC §6: hash = SHA-256(canonical event ‖ previous hash). */
export function chainHash(event: ChainedEvent, previous: Buffer): Buffer {
  return hashCanonical(canonicalJson({ ...event, occurred_at: event.occurred_at.toISOString() }), previous);
}
