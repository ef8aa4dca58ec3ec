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

/**
 * SPEC §6: hash = SHA-256(canonical event ‖ previous hash). `canonicalDetails`, when the
 * caller has it (canonicalJson(event.details), kept for a details object that repeats, like
 * a cached resolution's), is used as is: the same text, not computed again per event.
 */
export function chainHash(event: ChainedEvent, previous: Buffer, canonicalDetails?: string): Buffer {
  const record: Record<string, unknown> = { ...event, occurred_at: event.occurred_at.toISOString() };
  const canonical =
    canonicalDetails === undefined
      ? canonicalJson(record)
      : `{${Object.keys(record)
          .filter((key) => record[key] !== undefined)
          .sort()
          .map((key) => `${JSON.stringify(key)}:${key === 'details' ? canonicalDetails : canonicalJson(record[key])}`)
          .join(',')}}`;
  return createHash('sha256').update(canonical).update(previous).digest();
}
