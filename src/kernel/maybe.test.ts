import { describe, expect, it } from 'vitest';
import { andThen, isPromise } from './maybe.js';

describe('andThen', () => {
  it('continues at once with a value that is here, without a promise', () => {
    const result = andThen(2, (n) => n * 3);
    expect(isPromise(result)).toBe(false);
    expect(result).toBe(6);
  });

  it('continues once a promise settles, and passes its rejection on', async () => {
    const result = andThen(Promise.resolve(2), (n) => n * 3);
    expect(isPromise(result)).toBe(true);
    await expect(result).resolves.toBe(6);
    await expect(andThen(Promise.reject(new Error('miss')), () => 1)).rejects.toThrow('miss');
  });

  it('keeps a synchronous refusal synchronous (the guard turns it into the response at once)', () => {
    expect(() =>
      andThen(1, () => {
        throw new Error('refused');
      }),
    ).toThrow('refused');
  });
});
