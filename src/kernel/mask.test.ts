import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskSecret } from './mask.js';

describe('maskSecret (SPEC §3)', () => {
  it('shows only the first and last 3 characters from 24 characters up', () => {
    expect(maskSecret('abcdefghijklmnopqrstuvwx')).toBe('abc********vwx');
    expect(maskSecret('🌍é漢字abcdefghijklmnopqrs🔑ü')).toBe('🌍é漢********s🔑ü');
  });

  it('hides values shorter than 24 characters entirely, a 12-character one included', () => {
    expect(maskSecret('abcdefghijklmnopqrstuvw')).toBe('********');
    expect(maskSecret('hunter2hunter2')).toBe('********');
    expect(maskSecret('abcdefghijkl')).toBe('********');
    expect(maskSecret('')).toBe('********');
  });

  it('never reveals more than 6 characters, nor more than a quarter of any value', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (value) => {
        const masked = maskSecret(value);
        const revealed = [...masked.replace('********', '')].length;
        expect(revealed).toBeLessThanOrEqual(6);
        expect(revealed).toBeLessThanOrEqual([...value].length / 4);
        if ([...value].length < 24) expect(masked).toBe('********');
      }),
    );
  });
});
