import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random bearer secret: `prefix` + 256 bits in base64url. */
export function randomToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** Tokens are stored only as this hash; a database leak yields nothing usable. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
