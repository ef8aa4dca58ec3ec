import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random bearer secret: `prefix` + 256 bits in base64url. */
export function randomToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** Tokens are stored only as this hash; a database leak yields nothing usable. */
export function hashToken(token: string): Buffer {
  return hash('sha256', token, 'buffer');
}

/**
 * The same hash in base64, as caches key a token on every request: one-shot hashing is
 * several times cheaper than createHash().update().digest(). `Buffer.from(key, 'base64')`
 * is hashToken's value, for the database lookup on a miss.
 */
export function tokenHashKey(token: string): string {
  return hash('sha256', token, 'base64');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
