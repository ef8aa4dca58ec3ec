import { describe, expect, it } from 'vitest';
import { decodeCursor, decodeCursorKey, encodeCursor } from './pagination.js';

const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('the cursor codec', () => {
  it('round-trips a one-string key and a composite key', () => {
    expect(decodeCursor(encodeCursor('acme'))).toBe('acme');
    expect(decodeCursorKey(encodeCursor(['DB_URL', 'id-1']), ['string', 'string'])).toEqual(['DB_URL', 'id-1']);
    expect(decodeCursorKey(encodeCursor([42]), ['number'])).toEqual([42]);
    expect(decodeCursor(undefined)).toBeUndefined();
  });

  it.each([
    ['not base64 JSON', '!!!'],
    ['an object', forge({ after: 'x' })],
    ['a key of the wrong length', forge(['a', 'b'])],
    ['a number where a string is expected', forge([1])],
    ['a NUL', forge(['a\u0000'])],
  ])('refuses %s as a 400 naming query.cursor', (_, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field: 'query.cursor', reason: 'is not a cursor this API returned' } }));
  });

  it('refuses a number key that is not a safe integer', () => {
    for (const value of ['1', 1.5, Number.MAX_SAFE_INTEGER + 2]) {
      expect(() => decodeCursorKey(forge([value]), ['number'])).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    }
  });
});
