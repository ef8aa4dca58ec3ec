/**
 * The wire shapes of client-managed keys (SPEC §4, issue #13), shared by the server, which
 * checks them at the edge without ever holding a key, and the CLI, which encrypts and decrypts.
 *
 * A value is `cfr-cmk:v1:<key version>:<base64url(aead envelope)>`; the envelope is aead.ts's
 * (version byte, nonce, ciphertext, tag). The key version in clear lets the server refuse a
 * value encrypted under a key that has since been rotated, and lets a client say so.
 */
export const ENVELOPE_PREFIX = 'cfr-cmk:v1:';
const ENVELOPE = /^cfr-cmk:v1:([1-9][0-9]{0,8}):([A-Za-z0-9_-]+)$/;
/** aead.ts overhead: version byte, 12-byte nonce, 16-byte tag. */
export const ENVELOPE_OVERHEAD = 1 + 12 + 16;
const PROJECT_KEY_BYTES = 32;

/** What a listing shows for a client-managed value the reader may not see (secrets, files): fixed, says nothing of its length. */
export const CLIENT_PLACEHOLDER = '********';

export interface ParsedEnvelope {
  keyVersion: number;
  sealed: Buffer;
}

/** Parses a value envelope, or returns a reason it is not one (never quoting the value). */
export function parseEnvelope(text: string): ParsedEnvelope | string {
  const match = ENVELOPE.exec(text);
  if (!match) return `must be client ciphertext (${ENVELOPE_PREFIX}<key version>:<base64url>), as the coffer CLI writes it`;
  const sealed = Buffer.from(match[2]!, 'base64url');
  if (sealed.toString('base64url') !== match[2]) return 'holds malformed base64url';
  if (sealed.length < ENVELOPE_OVERHEAD || sealed[0] !== 1) return 'is truncated or not an AES-256-GCM envelope';
  return { keyVersion: Number(match[1]), sealed };
}

export function formatEnvelope(keyVersion: number, sealed: Buffer): string {
  return `${ENVELOPE_PREFIX}${keyVersion}:${sealed.toString('base64url')}`;
}

/**
 * Argon2id parameter bounds. The floor is OWASP's minimum (19 MiB, 2 passes); the ceiling stops
 * a malicious or broken server from making every client allocate gigabytes or spin for minutes.
 */
export const KDF_BOUNDS = {
  memory_kib: { min: 19_456, max: 1_048_576 },
  iterations: { min: 2, max: 16 },
  parallelism: { min: 1, max: 16 },
} as const;
export const SALT_BYTES = { min: 16, max: 64 } as const;
/** An aead.ts envelope of a 32-byte key. */
export const WRAPPED_KEY_BYTES = ENVELOPE_OVERHEAD + PROJECT_KEY_BYTES;

export interface KdfParams {
  algorithm: 'argon2id';
  memory_kib: number;
  iterations: number;
  parallelism: number;
}

/** The key material of a client-managed project as the server stores and returns it. */
export interface WrappedProjectKey {
  key_version: number;
  wrapped_key: string;
  salt: string;
  kdf: KdfParams;
}

/** Problems with key material, as `field: reason` pairs; empty when it is sane. */
export function checkWrappedKey(key: { key_version?: unknown; wrapped_key?: unknown; salt?: unknown; kdf?: Partial<Record<keyof KdfParams, unknown>> }, prefix: string): [string, string][] {
  const problems: [string, string][] = [];
  const bytes = (value: unknown) => (typeof value === 'string' && /^[A-Za-z0-9_-]*$/.test(value) ? Buffer.from(value, 'base64url') : null);
  const wrapped = bytes(key.wrapped_key);
  if (!wrapped || wrapped.length !== WRAPPED_KEY_BYTES) problems.push([`${prefix}.wrapped_key`, `must be ${WRAPPED_KEY_BYTES} bytes of base64url (a 32-byte key sealed with AES-256-GCM)`]);
  const salt = bytes(key.salt);
  if (!salt || salt.length < SALT_BYTES.min || salt.length > SALT_BYTES.max) problems.push([`${prefix}.salt`, `must be ${SALT_BYTES.min} to ${SALT_BYTES.max} bytes of base64url`]);
  if (!Number.isInteger(key.key_version) || (key.key_version as number) < 1) problems.push([`${prefix}.key_version`, 'must be an integer from 1']);
  const kdf = key.kdf ?? {};
  if (kdf.algorithm !== 'argon2id') problems.push([`${prefix}.kdf.algorithm`, 'must be argon2id']);
  for (const name of ['memory_kib', 'iterations', 'parallelism'] as const) {
    const value = kdf[name];
    const { min, max } = KDF_BOUNDS[name];
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) problems.push([`${prefix}.kdf.${name}`, `must be an integer from ${min} to ${max}`]);
  }
  return problems;
}

/** Where a value lives, as bound into its additional data. */
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

/** Additional data of a value: moved to another key, scope, project or version, it no longer opens. */
export function valueBindingAad(binding: ValueBinding): string {
  const scope = binding.scope.level === 'project' ? 'project' : `${binding.scope.level}:${binding.scope.id}`;
  return ['cfr-cmk/v1/value', binding.organizationId, binding.projectId, scope, binding.key, String(binding.version), String(binding.keyVersion)].join('\0');
}

/** Additional data of the wrapped project key. */
export function wrapAad(organizationId: string, projectId: string, keyVersion: number): string {
  return ['cfr-cmk/v1/wrap', organizationId, projectId, String(keyVersion)].join('\0');
}
