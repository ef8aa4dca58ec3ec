import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskSecret } from './mask.js';

describe('maskSecret (SPEC §3)', () => {
  it('shows only the first and last 3 characters from 12 characters up', () => {
    expect(maskSecret('hunter2hunter2')).toBe('hun********er2');
    expect(maskSecret('abcdefghijkl')).toBe('abc********jkl');
  });

  it('hides values shorter than 12 characters entirely', () => {
    expect(maskSecret('abcdefghijk')).toBe('********');
    expect(maskSecret('')).toBe('********');
  });

  it('never reveals more than 6 characters of any value', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (value) => {
        const masked = maskSecret(value);
        const revealed = masked.replace('********', '');
        expect([...revealed].length).toBeLessThanOrEqual(6);
        if ([...value].length < 12) expect(masked).toBe('********');
      }),
    );
  });
});
