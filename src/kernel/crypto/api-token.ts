import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * API token format (SPEC §5): `cfr_` + 40 base62 characters of randomness + 6 base62
 * characters of CRC-32 checksum. The prefix makes a leaked token recognisable to secret
 * scanners; the checksum lets anyone verify it offline and lets the server reject a
 * mistyped or forged token before any database lookup.
 */
export const API_TOKEN_PREFIX = 'cfr_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 40;
const CHECKSUM_LENGTH = 6;
const SHAPE = new RegExp(`^${API_TOKEN_PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);

function base62(value: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

function checksum(random: string): string {
  return base62(crc32(random), CHECKSUM_LENGTH);
}

/** A new token: 40 characters drawn uniformly from base62 (≈ 238 bits). */
export function generateApiToken(): string {
  let random = '';
  while (random.length < RANDOM_LENGTH) {
    for (const byte of randomBytes(64)) {
      // 248 = 4 × 62: rejecting larger bytes keeps every character equally likely.
      if (byte < 248 && random.length < RANDOM_LENGTH) random += ALPHABET[byte % 62];
    }
  }
  return API_TOKEN_PREFIX + random + checksum(random);
}

/** True when `token` has the shape and a matching checksum; says nothing about whether it exists. */
export function isWellFormedApiToken(token: string): boolean {
  if (!SHAPE.test(token)) return false;
  const body = token.slice(API_TOKEN_PREFIX.length);
  return checksum(body.slice(0, RANDOM_LENGTH)) === body.slice(RANDOM_LENGTH);
}

/** The first characters shown in listings so people can tell their tokens apart. */
export function apiTokenPrefix(token: string): string {
  return token.slice(0, API_TOKEN_PREFIX.length + 6);
}
