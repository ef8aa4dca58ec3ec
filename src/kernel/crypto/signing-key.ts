import { createPrivateKey, createPublicKey, hkdfSync, sign, verify, type KeyObject } from 'node:crypto';

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * An Ed25519 key derived from the root key (HKDF-SHA256, its own label): it never touches
 * the database, so a database superuser who rewrites the audit log cannot re-sign it.
 */
export class SigningKey {
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor(rootKey: Buffer, label: string) {
    const seed = Buffer.from(hkdfSync('sha256', rootKey, Buffer.alloc(0), `coffer ${label}`, 32));
    this.privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    this.publicKey = createPublicKey(this.privateKey);
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
