import { describe, expect, it } from 'vitest';
import { formatEnvelope, parseEnvelope, type ValueBinding } from '../kernel/crypto/client-envelope.js';
import { ClientKeyError, DEFAULT_KDF, createProjectKey, decryptValue, deriveKek, encryptValue, unwrapProjectKey, wrapProjectKey } from './client-keys.js';

const context = { organizationId: '11111111-1111-4111-8111-111111111111', projectId: '22222222-2222-4222-8222-222222222222' };
const binding: ValueBinding = { ...context, scope: { level: 'environment', id: '33333333-3333-4333-8333-333333333333' }, key: 'API_KEY', version: 3, keyVersion: 1 };
const { keyVersion: _unused, ...readBinding } = binding;

describe('client-managed keys: the client crypto module', () => {
  it('derives with at least the OWASP minimum by default', () => {
    expect(DEFAULT_KDF).toEqual({ algorithm: 'argon2id', memory_kib: 19456, iterations: 2, parallelism: 1 });
  });

  it('wraps a project key under a passphrase and unwraps it with the same passphrase only', async () => {
    const { key, wrapped } = await createProjectKey('correct horse fake passphrase', null);
    expect(await unwrapProjectKey(wrapped, 'correct horse fake passphrase', context)).toEqual(key);
    await expect(unwrapProjectKey(wrapped, 'wrong passphrase', context)).rejects.toThrow(/Wrong passphrase/);
    const rewrapped = await wrapProjectKey(key, 'a new fake passphrase', context, 1);
    expect(await unwrapProjectKey(rewrapped, 'a new fake passphrase', context)).toEqual(key);
    await expect(unwrapProjectKey(rewrapped, 'a new fake passphrase', { ...context, projectId: binding.scope.level })).rejects.toThrow(ClientKeyError);
  });

  it('refuses absurd Argon2 parameters from a malicious server before deriving anything', async () => {
    const salt = Buffer.alloc(16, 1);
    await expect(deriveKek('p', salt, { ...DEFAULT_KDF, memory_kib: 64 * 1024 * 1024 })).rejects.toThrow(/memory_kib must be an integer from 19456 to 1048576/);
    await expect(deriveKek('p', salt, { ...DEFAULT_KDF, iterations: 1_000_000 })).rejects.toThrow(/iterations/);
    await expect(deriveKek('p', salt, { ...DEFAULT_KDF, memory_kib: 8 })).rejects.toThrow(/memory_kib/);
    await expect(deriveKek('p', Buffer.alloc(4), DEFAULT_KDF)).rejects.toThrow(/salt/);
  });

  it('decrypts a value bound to its organization, project, scope, key and version', async () => {
    const { key } = await createProjectKey('fake passphrase', null);
    const envelope = encryptValue(key, 'fake-secret-value', binding);
    expect(envelope).toMatch(/^cfr-cmk:v1:1:[A-Za-z0-9_-]+$/);
    expect(envelope).not.toContain('fake-secret-value');
    expect(decryptValue(key, envelope, readBinding, 1)).toBe('fake-secret-value');
  });

  it('detects a value replayed as another version, moved to another key or scope, or altered, naming the key', async () => {
    const { key } = await createProjectKey('fake passphrase', null);
    const envelope = encryptValue(key, 'fake-secret-value', binding);
    expect(() => decryptValue(key, envelope, { ...readBinding, version: 4 }, 1)).toThrow(/API_KEY \(version 4\) does not decrypt/);
    expect(() => decryptValue(key, envelope, { ...readBinding, key: 'OTHER_KEY' }, 1)).toThrow(/OTHER_KEY/);
    expect(() => decryptValue(key, envelope, { ...readBinding, scope: { level: 'project' } }, 1)).toThrow(/API_KEY/);
    const parsed = parseEnvelope(envelope);
    if (typeof parsed === 'string') throw new Error(parsed);
    parsed.sealed[20]! ^= 1;
    expect(() => decryptValue(key, formatEnvelope(1, parsed.sealed), readBinding, 1)).toThrow(/API_KEY .* does not decrypt/);
  });

  it('says clearly when a ciphertext is truncated, garbled, or under a rotated key', async () => {
    const { key } = await createProjectKey('fake passphrase', null);
    const envelope = encryptValue(key, 'fake-secret-value', binding);
    expect(() => decryptValue(key, envelope.slice(0, 20), readBinding, 1)).toThrow(/API_KEY .*not readable ciphertext/);
    expect(() => decryptValue(key, 'garbage', readBinding, 1)).toThrow(/API_KEY .*not readable ciphertext/);
    expect(() => decryptValue(key, envelope, readBinding, 2)).toThrow(/API_KEY .*key version 1, which was rotated away/);
  });
});
