import { createHmac, randomBytes } from 'node:crypto';
import { DecryptionError, open, seal } from './aead.js';

/**
 * Wraps and unwraps data keys (SPEC §4). Callers see only this interface, so a cloud KMS
 * provider can replace the local one without touching them.
 */
export interface KeyProvider {
  /** Names the provider and its key (e.g. `local:<fingerprint>`), safe to store and log. */
  readonly id: string;
  wrap(dataKey: Buffer): Promise<Buffer>;
  /** Throws `DecryptionError` when `wrapped` was not wrapped by this provider's key or was altered. */
  unwrap(wrapped: Buffer): Promise<Buffer>;
}

const DATA_KEY_BYTES = 32;
const WRAP_AAD = 'coffer data key v1';

/** A fresh 256-bit data key. */
export function newDataKey(): Buffer {
  return randomBytes(DATA_KEY_BYTES);
}

/** Wraps data keys with AES-256-GCM under the 32-byte root key. */
export class LocalKeyProvider implements KeyProvider {
  readonly id: string;
  // A private field: util.inspect and JSON.stringify of the provider never show the key.
  readonly #rootKey: Buffer;

  constructor(rootKey: Buffer) {
    if (rootKey.length !== 32) throw new RangeError(`The root key must be 32 bytes (got ${rootKey.length} bytes)`);
    // A private copy: a caller zeroing or reusing its buffer must not change the key under us.
    this.#rootKey = Buffer.from(rootKey);
    this.id = `local:${fingerprint(this.#rootKey)}`;
  }

  async wrap(dataKey: Buffer): Promise<Buffer> {
    if (dataKey.length !== DATA_KEY_BYTES) throw new RangeError(`A data key must be ${DATA_KEY_BYTES} bytes (got ${dataKey.length} bytes)`);
    return seal(this.#rootKey, dataKey, WRAP_AAD);
  }

  async unwrap(wrapped: Buffer): Promise<Buffer> {
    try {
      return open(this.#rootKey, wrapped, WRAP_AAD);
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
      throw new DecryptionError(`Could not unwrap a data key with ${this.id}: it was wrapped under another root key or altered`);
    }
  }
}

/**
 * A short, stable name for a root key. A keyed hash with a fixed label: 64 bits of it tell
 * keys apart in logs and rotation output while revealing nothing usable about the key.
 */
function fingerprint(rootKey: Buffer): string {
  return createHmac('sha256', rootKey).update('coffer root key fingerprint').digest('hex').slice(0, 16);
}
