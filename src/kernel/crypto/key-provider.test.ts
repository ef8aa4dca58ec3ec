import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DecryptionError } from './aead.js';
import { LocalKeyProvider, newDataKey } from './key-provider.js';

describe('data keys', () => {
  it('are 32 random bytes, never repeated', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => newDataKey().toString('hex')));
    expect(keys.size).toBe(1000);
    expect(newDataKey().length).toBe(32);
  });
});

describe('LocalKeyProvider', () => {
  it('unwraps what it wrapped, and the wrapped form does not contain the data key', async () => {
    const provider = new LocalKeyProvider(randomBytes(32));
    const dataKey = newDataKey();
    const wrapped = await provider.wrap(dataKey);
    expect(wrapped.includes(dataKey)).toBe(false);
    expect((await provider.unwrap(wrapped)).equals(dataKey)).toBe(true);
  });

  it('refuses to unwrap under another root key, naming only the provider id', async () => {
    const rootKey = randomBytes(32);
    const dataKey = newDataKey();
    const wrapped = await new LocalKeyProvider(rootKey).wrap(dataKey);
    const other = new LocalKeyProvider(randomBytes(32));
    const error = await other.unwrap(wrapped).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as Error).message).toContain(other.id);
    for (const secret of [rootKey, dataKey]) {
      expect((error as Error).message).not.toContain(secret.toString('hex'));
      expect((error as Error).message).not.toContain(secret.toString('base64'));
    }
  });

  it('refuses an altered wrapped key', async () => {
    const provider = new LocalKeyProvider(randomBytes(32));
    const wrapped = await provider.wrap(newDataKey());
    wrapped[20]! ^= 0x01;
    await expect(provider.unwrap(wrapped)).rejects.toBeInstanceOf(DecryptionError);
  });

  it('has an id that is stable per root key, and differs between keys', () => {
    const rootKey = randomBytes(32);
    const provider = new LocalKeyProvider(rootKey);
    expect(provider.id).toMatch(/^local:[0-9a-f]{16}$/);
    expect(new LocalKeyProvider(Buffer.from(rootKey)).id).toBe(provider.id);
    expect(new LocalKeyProvider(randomBytes(32)).id).not.toBe(provider.id);
  });

  it('keeps its root key out of inspection and JSON, and unaffected by the caller reusing the buffer', async () => {
    const rootKey = randomBytes(32);
    const provider = new LocalKeyProvider(rootKey);
    const wrapped = await provider.wrap(newDataKey());
    expect(inspect(provider, { showHidden: true, depth: 5 })).not.toMatch(/Buffer|rootKey/);
    expect(JSON.stringify(provider)).toBe(JSON.stringify({ id: provider.id }));
    rootKey.fill(0);
    await expect(provider.unwrap(wrapped)).resolves.toHaveLength(32);
  });

  it('refuses a root key or data key that is not 32 bytes', async () => {
    expect(() => new LocalKeyProvider(randomBytes(16))).toThrow(/32 bytes \(got 16 bytes\)/);
    const provider = new LocalKeyProvider(randomBytes(32));
    await expect(provider.wrap(randomBytes(31))).rejects.toThrow(RangeError);
  });
});
