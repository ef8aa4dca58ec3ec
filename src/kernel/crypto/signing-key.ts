import { createPrivateKey, createPublicKey, hkdfSync, sign, verify, type KeyObject } from 'node:crypto';

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The size of an Ed25519 seed: what is stored (wrapped) for a signing key. */
export const SIGNING_SEED_BYTES = 32;

/**
 * An Ed25519 signing key from its 32-byte seed. The audit log's seed is generated once and
 * stored only wrapped under the root key (modules/audit/audit-keys.ts): a database superuser
 * who rewrites the log cannot re-sign it, and rotating the root key re-wraps the seed, so
 * checkpoints signed before a rotation still verify after it.
 */
export class SigningKey {
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor(seed: Buffer) {
    if (seed.length !== SIGNING_SEED_BYTES) throw new RangeError(`An Ed25519 seed is ${SIGNING_SEED_BYTES} bytes (got ${seed.length})`);
    this.privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    this.publicKey = createPublicKey(this.privateKey);
  }

  /** The seed earlier versions derived from the root key (HKDF-SHA256 under `coffer <label>`), to keep their key. */
  static derivedSeed(rootKey: Buffer, label: string): Buffer {
    return Buffer.from(hkdfSync('sha256', rootKey, Buffer.alloc(0), `coffer ${label}`, SIGNING_SEED_BYTES));
  }

  sign(message: string): string {
    return sign(null, Buffer.from(message), this.privateKey).toString('base64');
  }

  verify(message: string, signature: string): boolean {
    try {
      return verify(null, Buffer.from(message), this.publicKey, Buffer.from(signature, 'base64'));
    } catch {
      return false;
    }
  }

  /** The public key as PEM, for auditors who check checkpoints without Coffer. */
  publicKeyPem(): string {
    return this.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  }
}
