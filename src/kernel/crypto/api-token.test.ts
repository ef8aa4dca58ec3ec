import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apiTokenPrefix, generateApiToken, isWellFormedApiToken } from './api-token.js';

describe('API token format', () => {
  it('is cfr_ + 40 base62 characters + a 6-character checksum', () => {
    const token = generateApiToken();
    expect(token).toMatch(/^cfr_[0-9A-Za-z]{46}$/);
    expect(isWellFormedApiToken(token)).toBe(true);
    expect(apiTokenPrefix(token)).toBe(token.slice(0, 10));
  });

  it('never repeats', () => {
    const tokens = new Set(Array.from({ length: 1000 }, generateApiToken));
    expect(tokens.size).toBe(1000);
  });

  it('rejects any single-character change', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 49 }), fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'), (index, char) => {
        const token = generateApiToken();
        fc.pre(token[index] !== char);
        const tampered = token.slice(0, index) + char + token.slice(index + 1);
        expect(isWellFormedApiToken(tampered)).toBe(false);
      }),
    );
  });

  it('rejects wrong prefixes, lengths and alphabets', () => {
    const token = generateApiToken();
    expect(isWellFormedApiToken(token.replace('cfr_', 'cfx_'))).toBe(false);
    expect(isWellFormedApiToken(token.slice(0, -1))).toBe(false);
    expect(isWellFormedApiToken(`${token}a`)).toBe(false);
    expect(isWellFormedApiToken(`cfr_${'-'.repeat(46)}`)).toBe(false);
  });
});
