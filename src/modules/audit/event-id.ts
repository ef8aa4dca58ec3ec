import { randomFillSync } from 'node:crypto';

const BYTES = 10; // 74 random bits used of 80
// Random bits for many ids at once: one call into OpenSSL per 512 ids instead of one per id.
const pool = Buffer.alloc(BYTES * 512);
let offset = pool.length;

const hex = (value: number, digits: number) => value.toString(16).padStart(digits, '0');

/**
 * A time-ordered UUID (RFC 9562 version 7: 48 bits of Unix milliseconds, then 74 random
 * bits) for an audit event's id. Events are appended in time order, so their primary-key
 * index grows at its right edge instead of at a random leaf per row as with
 * gen_random_uuid(): on PostgreSQL that index insert was about a third of what storing a
 * read event cost (issue #16), and on a large log a random leaf is a page read in and, after
 * each checkpoint, written to the WAL whole. The id is not part of the chain's hash.
 */
export function eventId(now = Date.now()): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const time = hex(now, 12);
  const a = pool.readUInt16BE(offset) & 0x0fff;
  const b = (pool.readUInt16BE(offset + 2) & 0x3fff) | 0x8000;
  const c = pool.readUInt32BE(offset + 4);
  const d = pool.readUInt16BE(offset + 8);
  offset += BYTES;
  return `${time.slice(0, 8)}-${time.slice(8)}-7${hex(a, 3)}-${hex(b, 4)}-${hex(c, 8)}${hex(d, 4)}`;
}
