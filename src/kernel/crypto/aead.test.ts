import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../../test/unit.js';
import { DecryptionError, open, seal, valueAad } from './aead.js';

const NONCE = { start: 1, end: 13 };

function expectDecryptionError(fn: () => unknown, ...secrets: Buffer[]): void {
  const { message } = thrown(fn, DecryptionError);
  for (const secret of secrets) {
    expect(message).not.toContain(secret.toString('hex'));
    expect(message).not.toContain(secret.toString('base64'));
    expect(message).not.toContain(secret.toString('utf8'));
  }
}

describe('AES-256-GCM envelope', () => {
  it('round-trips strings as UTF-8 and buffers unchanged', () => {
    const key = randomBytes(32);
    expect(open(key, seal(key, 'héllo "world" $`#\n', 'aad'), 'aad').toString('utf8')).toBe('héllo "world" $`#\n');
    expect(open(key, seal(key, '', 'aad'), 'aad').length).toBe(0);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.uint8Array({ maxLength: 64 }), (plain, aad) => {
        const envelope = seal(key, Buffer.from(plain), Buffer.from(aad));
        expect(open(key, envelope, Buffer.from(aad)).equals(Buffer.from(plain))).toBe(true);
      }),
    );
  });

  it('is version byte 1, a 12-byte nonce, the ciphertext and a 16-byte tag', () => {
    const key = randomBytes(32);
    const plaintext = randomBytes(40);
    const envelope = seal(key, plaintext, 'aad');
    expect(envelope[0]).toBe(1);
    expect(envelope.length).toBe(1 + 12 + 40 + 16);
    expect(envelope.includes(plaintext)).toBe(false);
  });

  it('fails to open after any single-bit flip, without leaking key or plaintext', () => {
    const key = randomBytes(32);
    const plaintext = randomBytes(24);
    const envelope = seal(key, plaintext, 'aad');
    for (let bit = 0; bit < envelope.length * 8; bit++) {
      const tampered = Buffer.from(envelope);
      tampered[bit >> 3]! ^= 1 << (bit & 7);
      expectDecryptionError(() => open(key, tampered, 'aad'), key, plaintext);
    }
  });

  it('fails to open a truncated or extended envelope', () => {
    const key = randomBytes(32);
    const envelope = seal(key, 'value', 'aad');
    for (let length = 0; length < envelope.length; length++) {
      expectDecryptionError(() => open(key, envelope.subarray(0, length), 'aad'));
    }
    expectDecryptionError(() => open(key, Buffer.concat([envelope, Buffer.from([0])]), 'aad'));
  });

  it('fails to open under another key', () => {
    const key = randomBytes(32);
    const other = randomBytes(32);
    const plaintext = randomBytes(16);
    expectDecryptionError(() => open(other, seal(key, plaintext, 'aad'), 'aad'), key, other, plaintext);
  });

  it('binds a value to its variable and version', () => {
    const key = randomBytes(32);
    const envelope = seal(key, 'value', valueAad('var_A', 1));
    expect(open(key, envelope, valueAad('var_A', 1)).toString()).toBe('value');
    expectDecryptionError(() => open(key, envelope, valueAad('var_A', 2)));
    expectDecryptionError(() => open(key, envelope, valueAad('var_B', 1)));
  });

  it('never repeats a nonce', () => {
    const key = randomBytes(32);
    const nonces = new Set<string>();
    for (let i = 0; i < 20_000; i++) nonces.add(seal(key, 'same', 'same').subarray(NONCE.start, NONCE.end).toString('hex'));
    expect(nonces.size).toBe(20_000);
  });

  it('refuses a key that is not 32 bytes, naming only its length', () => {
    const short = randomBytes(16);
    expect(() => seal(short, 'value', 'aad')).toThrow(/32-byte key \(got 16 bytes\)/);
    expect(() => open(short, Buffer.alloc(40), 'aad')).toThrow(RangeError);
  });
});

describe('valueAad', () => {
  it('gives distinct additional data for distinct (variable, version) pairs', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.nat(), fc.string({ minLength: 1 }), fc.nat(), (idA, vA, idB, vB) => {
        fc.pre(idA !== idB || vA !== vB);
        expect(valueAad(idA, vA).equals(valueAad(idB, vB))).toBe(false);
      }),
    );
    expect(valueAad('a', 12).equals(valueAad('a1', 2))).toBe(false);
  });

  it('refuses an empty id and a version that is not a whole number', () => {
    expect(() => valueAad('', 1)).toThrow(RangeError);
    expect(() => valueAad('id', -1)).toThrow(RangeError);
    expect(() => valueAad('id', 1.5)).toThrow(RangeError);
    expect(() => valueAad('id', Number.NaN)).toThrow(RangeError);
  });
});
