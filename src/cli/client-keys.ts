import { randomBytes } from 'node:crypto';
import { hashRaw, type Algorithm } from '@node-rs/argon2';
import { DecryptionError, open, seal } from '../kernel/crypto/aead.js';
import {
  KDF_BOUNDS,
  SALT_BYTES,
  checkWrappedKey,
  formatEnvelope,
  parseEnvelope,
  valueBindingAad,
  wrapAad,
  type KdfParams,
  type ValueBinding,
  type WrappedProjectKey,
} from '../kernel/crypto/client-envelope.js';

/**
 * The client half of client-managed keys (SPEC §4, issue #13): pure functions, no I/O. The
 * passphrase and the project key never leave the process; the key lives only in memory.
 */

/** OWASP's recommended minimum for Argon2id (19 MiB, 2 passes, 1 lane). */
export const DEFAULT_KDF: KdfParams = { algorithm: 'argon2id', memory_kib: KDF_BOUNDS.memory_kib.min, iterations: 2, parallelism: 1 };

/** A failure the user can act on; `key` names the variable when there is one. */
export class ClientKeyError extends Error {
  constructor(
    message: string,
    readonly key?: string,
  ) {
    super(message);
    this.name = 'ClientKeyError';
  }
}

export interface ProjectKeyContext {
  organizationId: string;
  projectId: string;
}

/** The key-encryption key: Argon2id of the passphrase. Refuses parameters outside sane bounds, whoever sent them. */
export async function deriveKek(passphrase: string, salt: Buffer, kdf: KdfParams): Promise<Buffer> {
  const problems = checkWrappedKey({ key_version: 1, wrapped_key: 'A'.repeat(80), salt: salt.toString('base64url'), kdf }, 'key').filter(([field]) => !field.endsWith('wrapped_key'));
  if (problems.length > 0) {
    throw new ClientKeyError(`Refusing the server's key parameters (${problems.map(([field, reason]) => `${field} ${reason}`).join('; ')}): a server must not be able to make the client spend unbounded memory or time, nor weaken the passphrase`);
  }
  if (passphrase.length === 0) throw new ClientKeyError('The passphrase is empty');
  const raw = await hashRaw(passphrase, { algorithm: 2 as Algorithm /* Argon2id (a const enum) */, memoryCost: kdf.memory_kib, timeCost: kdf.iterations, parallelism: kdf.parallelism, outputLen: 32, salt });
  return Buffer.from(raw);
}

/** A new random project key, wrapped under a key derived from `passphrase` with fresh salt. */
export async function createProjectKey(passphrase: string, context: ProjectKeyContext | null, keyVersion = 1, kdf: KdfParams = DEFAULT_KDF) {
  const key = randomBytes(32);
  return { key, wrapped: await wrapProjectKey(key, passphrase, context, keyVersion, kdf) };
}

/**
 * Wraps `key` under `passphrase`, bound to the organization and project (`context`). The CLI
 * chooses a new project's id, so even the first wrap is bound; `context` null (an unbound wrap,
 * binding only the key version) is what projects created before that hold, and unwrap still reads.
 */
export async function wrapProjectKey(key: Buffer, passphrase: string, context: ProjectKeyContext | null, keyVersion: number, kdf: KdfParams = DEFAULT_KDF): Promise<WrappedProjectKey> {
  const salt = randomBytes(SALT_BYTES.min);
  const kek = await deriveKek(passphrase, salt, kdf);
  const wrapped = seal(kek, key, wrapAad(context?.organizationId ?? '', context?.projectId ?? '', keyVersion));
  return { key_version: keyVersion, wrapped_key: wrapped.toString('base64url'), salt: salt.toString('base64url'), kdf };
}

/** The project key from what key:retrieve returned; a wrong passphrase (or an altered key) is one clear error. */
export async function unwrapProjectKey(material: WrappedProjectKey, passphrase: string, context: ProjectKeyContext): Promise<Buffer> {
  const [problem] = checkWrappedKey(material, 'key');
  if (problem && !problem[0].startsWith('key.kdf')) throw new ClientKeyError(`The server sent unusable key material: ${problem[0]} ${problem[1]}`);
  const kek = await deriveKek(passphrase, Buffer.from(material.salt, 'base64url'), material.kdf);
  const sealed = Buffer.from(material.wrapped_key, 'base64url');
  // Bound first; then the unbound first wrap of a project created before creation wraps were bound.
  for (const aad of [wrapAad(context.organizationId, context.projectId, material.key_version), wrapAad('', '', material.key_version)]) {
    try {
      return open(kek, sealed, aad);
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
    }
  }
  throw new ClientKeyError('Wrong passphrase for this project (or its wrapped key was altered): nothing was decrypted or written');
}

/** Encrypts one value, bound to where it lives, its key name, the version it will be and the key version. */
export function encryptValue(projectKey: Buffer, plaintext: string, binding: ValueBinding): string {
  return formatEnvelope(binding.keyVersion, seal(projectKey, plaintext, valueBindingAad(binding)));
}

/** Decrypts one value; anything altered, truncated, replayed from another version or moved from another key or scope is an error naming the key. */
export function decryptValue(projectKey: Buffer, envelope: string, binding: Omit<ValueBinding, 'keyVersion'>, currentKeyVersion: number): string {
  const parsed = parseEnvelope(envelope);
  if (typeof parsed === 'string') throw new ClientKeyError(`The value of ${binding.key} (version ${binding.version}) is not readable ciphertext: it ${parsed.replace(/^must be/, 'should be')}`, binding.key);
  if (parsed.keyVersion !== currentKeyVersion) {
    throw new ClientKeyError(`The value of ${binding.key} (version ${binding.version}) is encrypted under key version ${parsed.keyVersion}, which was rotated away (the key is now at version ${currentKeyVersion})`, binding.key);
  }
  try {
    return open(projectKey, parsed.sealed, valueBindingAad({ ...binding, keyVersion: parsed.keyVersion })).toString('utf8');
  } catch (error) {
    if (!(error instanceof DecryptionError)) throw error;
    throw new ClientKeyError(
      `The value of ${binding.key} (version ${binding.version}) does not decrypt: it was altered, replayed from another version, or moved from another key, scope or project`,
      binding.key,
    );
  }
}
