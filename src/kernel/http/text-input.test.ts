import { describe, expect, it } from 'vitest';
import { isDateTime } from './schemas.js';
import { MAX_DEPTH, findUnsafeText } from './text-input.js';

const fieldOf = (part: string, value: unknown) => findUnsafeText(part, value)?.details?.field;

describe('findUnsafeText', () => {
  it('names the first string holding NUL or a lone surrogate by its path', () => {
    expect(fieldOf('body', { a: [{ b: 'ok' }, { c: 'x\u0000' }] })).toBe('body.a[1].c');
    expect(fieldOf('query', { cursor: '\ud800' })).toBe('query.cursor');
    expect(fieldOf('body', { d: 'end\udc00' })).toBe('body.d');
    expect(fieldOf('body', 'top\u0000')).toBe('body');
  });

  it('accepts surrogate pairs, other control characters and ordinary text', () => {
    expect(findUnsafeText('body', { emoji: '😀', tab: 'a\tb\nc', bell: '\u0007', nested: { list: ['ß', 'İ', ''] } })).toBeUndefined();
  });

  it('names the object whose key is bad, without echoing the key', () => {
    const error = findUnsafeText('body', { details: { 'k\u0000': 1 } });
    expect(error?.details).toEqual({ field: 'body.details', reason: 'has a key with a NUL character' });
  });

  it('refuses numbers that are not finite', () => {
    expect(fieldOf('query', { limit: Infinity })).toBe('query.limit');
    expect(fieldOf('body', { version: -Infinity })).toBe('body.version');
    expect(findUnsafeText('body', { version: 1e308 })).toBeUndefined();
  });

  it('refuses nesting deeper than MAX_DEPTH without recursing (no stack overflow at a million levels)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(findUnsafeText('body', deep)?.details?.reason).toMatch(/nested too deeply/);
    let fine: unknown = 'x';
    for (let i = 0; i < MAX_DEPTH - 1; i++) fine = { a: fine };
    expect(findUnsafeText('body', fine)).toBeUndefined();
  });
});

describe('isDateTime', () => {
  it('accepts RFC 3339 date-times with an offset', () => {
    for (const value of ['2025-05-01T12:00:00Z', '2024-02-29T23:59:59.999999999+05:30', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '2025-05-01t12:00:00z']) {
      expect(isDateTime(value), value).toBe(true);
    }
  });

  it('refuses leap seconds, missing offsets, impossible dates and instants outside years 0001-9999', () => {
    for (const value of [
      '2016-12-31T23:59:60Z', '2025-05-01T12:00:00', '2025-05-01 12:00:00Z', '2023-02-29T00:00:00Z', '2025-04-31T00:00:00Z',
      '2025-05-01T24:00:00Z', '2025-05-01T12:00:00+24:00', '0000-01-01T00:00:00Z', '0001-01-01T00:00:00+00:01',
      '9999-12-31T23:59:59-00:01', '+275760-09-13T00:00:00Z', '2025-05-01T12:00:00.1234567890Z', '2025-05-01T12:00:00+0100',
    ]) {
      expect(isDateTime(value), value).toBe(false);
    }
  });
});
