import { randomBytes, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SigningKey } from './signing-key.js';

describe('SigningKey', () => {
  it('derives the same key from the same root key and label, and different ones otherwise', () => {
    const root = randomBytes(32);
    const a = new SigningKey(root, 'audit checkpoint');
    expect(new SigningKey(root, 'audit checkpoint').publicKeyPem()).toBe(a.publicKeyPem());
    expect(new SigningKey(root, 'other').publicKeyPem()).not.toBe(a.publicKeyPem());
    expect(new SigningKey(randomBytes(32), 'audit checkpoint').publicKeyPem()).not.toBe(a.publicKeyPem());
  });

  it('signs so that anyone with the public key can verify, and detects any change', () => {
    const key = new SigningKey(randomBytes(32), 'audit checkpoint');
    const signature = key.sign('{"sequence":7}');
    expect(key.verify('{"sequence":7}', signature)).toBe(true);
    expect(verify(null, Buffer.from('{"sequence":7}'), key.publicKey, Buffer.from(signature, 'base64'))).toBe(true);
    expect(key.verify('{"sequence":8}', signature)).toBe(false);
    expect(key.verify('{"sequence":7}', 'not a signature')).toBe(false);
  });
});
