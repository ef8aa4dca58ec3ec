import { randomBytes, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SigningKey } from './signing-key.js';

describe('SigningKey', () => {
  it('is the same key for the same seed, and another for another seed', () => {
    const seed = randomBytes(32);
    const a = new SigningKey(seed);
    expect(new SigningKey(Buffer.from(seed)).publicKeyPem()).toBe(a.publicKeyPem());
    expect(new SigningKey(randomBytes(32)).publicKeyPem()).not.toBe(a.publicKeyPem());
    expect(() => new SigningKey(randomBytes(31))).toThrow(RangeError);
  });

  it('derives the seed earlier versions used from the root key and label, and a different one otherwise', () => {
    const root = randomBytes(32);
    const seed = SigningKey.derivedSeed(root, 'audit checkpoint v1');
    expect(seed).toHaveLength(32);
    expect(SigningKey.derivedSeed(root, 'audit checkpoint v1').equals(seed)).toBe(true);
    expect(SigningKey.derivedSeed(root, 'other').equals(seed)).toBe(false);
    expect(SigningKey.derivedSeed(randomBytes(32), 'audit checkpoint v1').equals(seed)).toBe(false);
  });

  it('signs so that anyone with the public key can verify, and detects any change', () => {
    const key = new SigningKey(randomBytes(32));
    const signature = key.sign('{"sequence":7}');
    expect(key.verify('{"sequence":7}', signature)).toBe(true);
    expect(verify(null, Buffer.from('{"sequence":7}'), key.publicKey, Buffer.from(signature, 'base64'))).toBe(true);
    expect(key.verify('{"sequence":8}', signature)).toBe(false);
    expect(key.verify('{"sequence":7}', 'not a signature')).toBe(false);
  });
});
