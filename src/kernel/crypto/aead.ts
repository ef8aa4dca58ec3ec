import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM envelopes (SPEC §4): version byte ‖ 12-byte nonce ‖ ciphertext ‖ 16-byte tag.
 * The version byte lets a later format (another cipher, a key id) coexist with stored rows.
 */
const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const HEADER_BYTES = 1 + NONCE_BYTES;

/** Thrown when an envelope cannot be opened; deliberately says nothing about key or plaintext. */
export class DecryptionError extends Error {
  constructor(message = 'Decryption failed: the ciphertext was altered, or it was sealed under another key or for another record') {
    super(message);
    this.name = 'DecryptionError';
  }
}

function checkKey(key: Buffer): void {
  // The message states only the length: a wrong-sized key is a bug, and the bytes must not leak.
  if (key.length !== KEY_BYTES) throw new RangeError(`AES-256-GCM needs a ${KEY_BYTES}-byte key (got ${key.length} bytes)`);
}

/** Encrypts `plaintext` (strings as UTF-8) under `key`, authenticating `aad` with it; a fresh random nonce each call. */
export function seal(key: Buffer, plaintext: Buffer | string, aad: Buffer | string): Buffer {
  checkKey(key);
  // Random 96-bit nonces: the NIST bound of 2^32 seals per key is far beyond one project's values.
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(typeof aad === 'string' ? Buffer.from(aad, 'utf8') : aad);
  const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), nonce, body, cipher.getAuthTag()]);
}

/** Decrypts an envelope from `seal`; throws `DecryptionError` on tampering, a wrong key or a wrong `aad`. */
export function open(key: Buffer, envelope: Buffer, aad: Buffer | string): Buffer {
  checkKey(key);
  if (envelope.length < HEADER_BYTES + TAG_BYTES) throw new DecryptionError('Decryption failed: the envelope is truncated');
  if (envelope[0] !== VERSION) throw new DecryptionError(`Decryption failed: unknown envelope version ${envelope[0]}`);
  const nonce = envelope.subarray(1, HEADER_BYTES);
  const body = envelope.subarray(HEADER_BYTES, envelope.length - TAG_BYTES);
  const tag = envelope.subarray(envelope.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    decipher.setAAD(typeof aad === 'string' ? Buffer.from(aad, 'utf8') : aad);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    // OpenSSL's own message is generic, but the cause is dropped so no future change can leak through it.
    throw new DecryptionError();
  }
}

/**
 * The additional data for a variable value: a ciphertext opens only for the variable id and
 * version it was sealed for, so one copied to another row or version fails (SPEC §4).
 */
export function valueAad(variableId: string, version: number): Buffer {
  if (variableId === '') throw new RangeError('valueAad needs a variable id');
  if (!Number.isSafeInteger(version) || version < 0) throw new RangeError(`valueAad needs a whole version number (got ${version})`);
  // Length-prefixing the id keeps the encoding unambiguous whatever characters an id holds.
  const id = Buffer.from(variableId, 'utf8');
  return Buffer.concat([Buffer.from('coffer variable value v1\0', 'utf8'), Buffer.from(`${id.length}:`), id, Buffer.from(`:${version}`)]);
}
