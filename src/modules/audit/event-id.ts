import { randomFillSync } from 'node:crypto';

const BYTES = 10; // 74 random bits used of 80
// Random bits for many ids at once: one call into OpenSSL per 512 ids instead of one per id.
const pool = Buffer.alloc(BYTES * 512);
let offset = pool.length;
const VARIANT_DIGITS = '89ab';

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
  // The 10 random bytes as 20 hex digits, read in one call: the first digit is dropped for
  // the version's, and the fifth's top two bits become the variant's (binary 10).
  const random = pool.toString('hex', offset, offset + BYTES);
  offset += BYTES;
  const time = now.toString(16).padStart(12, '0');
  const variant = VARIANT_DIGITS[parseInt(random[4]!, 16) & 3];
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(1, 4)}-${variant}${random.slice(5, 8)}-${random.slice(8)}`;
}
