import { argon2id } from 'hash-wasm';

/**
 * The browser half of client-managed keys (SPEC §4, issue #13): the same formats as the CLI
 * (src/cli/client-keys.ts, src/kernel/crypto/client-envelope.ts), with Argon2id from hash-wasm
 * (WebAssembly) and AES-256-GCM from WebCrypto. Those files use Node's Buffer and crypto, so
 * the console cannot import them; web/test/client-keys-crypto.test.ts proves both sides open
 * each other's ciphertext byte for byte. Keys are non-extractable CryptoKeys, held in memory.
 */

export const ENVELOPE_PREFIX = 'cfr-cmk:v1:';
const ENVELOPE = /^cfr-cmk:v1:([1-9][0-9]{0,8}):([A-Za-z0-9_-]+)$/;
/** Version byte, 12-byte nonce, 16-byte tag (kernel/crypto/aead.ts). */
const VERSION = 1;
const NONCE_BYTES = 12;
const ENVELOPE_OVERHEAD = 1 + NONCE_BYTES + 16;
const WRAPPED_KEY_BYTES = ENVELOPE_OVERHEAD + 32;

/** The bounds the CLI enforces on a server's Argon2id parameters (client-envelope.ts KDF_BOUNDS). */
export const KDF_BOUNDS = {
  memory_kib: { min: 19_456, max: 1_048_576 },
  iterations: { min: 2, max: 16 },
  parallelism: { min: 1, max: 16 },
} as const;
export const SALT_BYTES = { min: 16, max: 64 } as const;

export interface KdfParams {
  algorithm: 'argon2id';
  memory_kib: number;
  iterations: number;
  parallelism: number;
}

/** What key:retrieve (GET …/projects/{project}/key) answers. */
export interface WrappedProjectKey {
  key_version: number;
  wrapped_key: string;
  salt: string;
  kdf: KdfParams;
}

export type ValueScope =
  | { level: 'project' }
  | { level: 'environment'; id: string }
  | { level: 'service'; id: string }
  | { level: 'member'; id: string };

export interface ValueBinding {
  organizationId: string;
  projectId: string;
  scope: ValueScope;
  key: string;
  version: number;
  keyVersion: number;
}

/** A failure the person can act on; `key` names the variable when there is one. */
export class ClientKeyError extends Error {
  constructor(
    message: string,
    readonly key?: string,
  ) {
    super(message);
    this.name = 'ClientKeyError';
  }
}

/** A WebCrypto CryptoKey, named so that Node's types (which check web/test) and the DOM's agree. */
export type AesKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** An unlocked project: its key (non-extractable) and what values are bound to. */
export interface UnlockedProject {
  key: AesKey;
  keyVersion: number;
  organizationId: string;
  projectId: string;
}

const utf8 = new TextEncoder();
// Lenient like Buffer#toString('utf8') in the CLI.
const fromUtf8 = new TextDecoder('utf-8');

/** base64url without padding, as Node's Buffer writes it. */
export function toBase64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Strict base64url: null unless `text` is the canonical encoding of some bytes. */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return toBase64url(bytes) === text ? bytes : null;
}

/** Additional data of a value (client-envelope.ts valueBindingAad). */
export function valueBindingAad(binding: ValueBinding): string {
  const scope = binding.scope.level === 'project' ? 'project' : `${binding.scope.level}:${binding.scope.id}`;
  return ['cfr-cmk/v1/value', binding.organizationId, binding.projectId, scope, binding.key, String(binding.version), String(binding.keyVersion)].join('\0');
}

/** Additional data of the wrapped project key (client-envelope.ts wrapAad). */
export function wrapAad(organizationId: string, projectId: string, keyVersion: number): string {
  return ['cfr-cmk/v1/wrap', organizationId, projectId, String(keyVersion)].join('\0');
}

function kdfProblems(salt: Uint8Array, kdf: Partial<Record<keyof KdfParams, unknown>>): string[] {
  const problems: string[] = [];
  if (salt.length < SALT_BYTES.min || salt.length > SALT_BYTES.max) problems.push(`key.salt must be ${SALT_BYTES.min} to ${SALT_BYTES.max} bytes of base64url`);
  if (kdf.algorithm !== 'argon2id') problems.push('key.kdf.algorithm must be argon2id');
  for (const name of ['memory_kib', 'iterations', 'parallelism'] as const) {
    const value = kdf[name];
    const { min, max } = KDF_BOUNDS[name];
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) problems.push(`key.kdf.${name} must be an integer from ${min} to ${max}`);
  }
  return problems;
}

/** The key-encryption key's bytes: Argon2id of the passphrase. Refuses parameters outside sane bounds, whoever sent them. */
export async function deriveKekBytes(passphrase: string, salt: Uint8Array, kdf: KdfParams): Promise<Uint8Array> {
  const problems = kdfProblems(salt, kdf);
  if (problems.length > 0) {
    throw new ClientKeyError(`Refusing the server's key parameters (${problems.join('; ')}): a server must not be able to make the browser spend unbounded memory or time, nor weaken the passphrase`);
  }
  if (passphrase.length === 0) throw new ClientKeyError('The passphrase is empty');
  return argon2id({ password: passphrase, salt, memorySize: kdf.memory_kib, iterations: kdf.iterations, parallelism: kdf.parallelism, hashLength: 32, outputType: 'binary' });
}

/** Raw key bytes as a non-extractable AES-256-GCM key; the bytes are zeroed. */
async function importKey(bytes: Uint8Array): Promise<AesKey> {
  try {
    return await crypto.subtle.importKey('raw', bytes as Uint8Array<ArrayBuffer>, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  } finally {
    bytes.fill(0);
  }
}

async function seal(key: AesKey, plaintext: Uint8Array, aad: string): Promise<Uint8Array> {
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const body = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: utf8.encode(aad), tagLength: 128 }, key, plaintext as Uint8Array<ArrayBuffer>));
  const envelope = new Uint8Array(1 + NONCE_BYTES + body.length);
  envelope[0] = VERSION;
  envelope.set(nonce, 1);
  envelope.set(body, 1 + NONCE_BYTES);
  return envelope;
}

/** The plaintext, or null when the envelope does not open under `key` and `aad`. */
async function open(key: AesKey, envelope: Uint8Array<ArrayBuffer>, aad: string): Promise<Uint8Array | null> {
  if (envelope.length < ENVELOPE_OVERHEAD || envelope[0] !== VERSION) return null;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: envelope.subarray(1, 1 + NONCE_BYTES), additionalData: utf8.encode(aad), tagLength: 128 },
      key,
      envelope.subarray(1 + NONCE_BYTES),
    );
    return new Uint8Array(plain);
  } catch {
    return null;
  }
}

/**
 * The project key from what key:retrieve returned, as a non-extractable CryptoKey. A wrong
 * passphrase (or an altered key) is one clear error. The passphrase goes nowhere but Argon2id.
 */
export async function unwrapProjectKey(material: WrappedProjectKey & { organization_id: string; project_id: string }, passphrase: string): Promise<UnlockedProject> {
  const wrapped = fromBase64url(material.wrapped_key);
  const salt = fromBase64url(material.salt);
  if (!wrapped || wrapped.length !== WRAPPED_KEY_BYTES) throw new ClientKeyError(`The server sent unusable key material: key.wrapped_key must be ${WRAPPED_KEY_BYTES} bytes of base64url`);
  if (!salt) throw new ClientKeyError('The server sent unusable key material: key.salt must be base64url');
  if (!Number.isInteger(material.key_version) || material.key_version < 1) throw new ClientKeyError('The server sent unusable key material: key.key_version must be an integer from 1');
  const kek = await importKey(await deriveKekBytes(passphrase, salt, material.kdf));
  // A project's first wrap was made before it had ids (wrapAad('', '', 1)); every later one binds them.
  for (const aad of [wrapAad(material.organization_id, material.project_id, material.key_version), wrapAad('', '', material.key_version)]) {
    const key = await open(kek, wrapped, aad);
    if (key) return { key: await importKey(key), keyVersion: material.key_version, organizationId: material.organization_id, projectId: material.project_id };
  }
  throw new ClientKeyError('Wrong passphrase for this project (or its wrapped key was altered): nothing was decrypted');
}

/** Raw project key bytes (e.g. from the CLI) as a non-extractable key; the bytes are zeroed. */
export function importProjectKey(bytes: Uint8Array): Promise<AesKey> {
  if (bytes.length !== 32) throw new ClientKeyError('A project key is 32 bytes');
  return importKey(bytes);
}

/** Encrypts one value, bound to where it lives, its key name, the version it will be and the key version. */
export async function encryptValue(key: AesKey, plaintext: string, binding: ValueBinding): Promise<string> {
  return `${ENVELOPE_PREFIX}${binding.keyVersion}:${toBase64url(await seal(key, utf8.encode(plaintext), valueBindingAad(binding)))}`;
}

/** Decrypts one value; anything altered, truncated, replayed from another version or moved from another key or scope is an error naming the key. */
export async function decryptValue(key: AesKey, envelope: string, binding: Omit<ValueBinding, 'keyVersion'>, currentKeyVersion: number): Promise<string> {
  const where = `The value of ${binding.key} (version ${binding.version})`;
  const match = ENVELOPE.exec(envelope);
  const sealed = match ? fromBase64url(match[2]!) : null;
  if (!match || !sealed || sealed.length < ENVELOPE_OVERHEAD || sealed[0] !== VERSION) throw new ClientKeyError(`${where} is not readable ciphertext (${ENVELOPE_PREFIX}<key version>:<base64url>)`, binding.key);
  const keyVersion = Number(match[1]);
  if (keyVersion !== currentKeyVersion) {
    throw new ClientKeyError(`${where} is encrypted under key version ${keyVersion}, which was rotated away (the key is now at version ${currentKeyVersion})`, binding.key);
  }
  const plain = await open(key, sealed, valueBindingAad({ ...binding, keyVersion }));
  if (!plain) throw new ClientKeyError(`${where} does not decrypt: it was altered, replayed from another version, or moved from another key, scope or project`, binding.key);
  return fromUtf8.decode(plain);
}
