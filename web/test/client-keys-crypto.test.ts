import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as cli from '../../src/cli/client-keys.js';
import { KDF_BOUNDS as SERVER_KDF_BOUNDS, SALT_BYTES as SERVER_SALT_BYTES, valueBindingAad as serverValueAad, wrapAad as serverWrapAad, type ValueBinding } from '../../src/kernel/crypto/client-envelope.js';
import * as web from '../src/features/client-keys/crypto.js';

/**
 * The console's crypto (hash-wasm Argon2id + WebCrypto AES-GCM) against the CLI's (@node-rs/argon2
 * + node:crypto), on Node's WebCrypto: the same KEK from the same passphrase and parameters, and
 * each side opens what the other sealed, with the same binding refusing a moved value.
 */
const context = { organizationId: '0b9a4a3e-4c1f-4f39-9d8e-6a1f4c7d2e10', projectId: '6f1e2d3c-1111-4a2b-8c3d-9e8f7a6b5c4d' };
const material = (wrapped: Awaited<ReturnType<typeof cli.wrapProjectKey>>) => ({ ...wrapped, organization_id: context.organizationId, project_id: context.projectId });
const binding = (over: Partial<ValueBinding> = {}): ValueBinding => ({ ...context, scope: { level: 'environment', id: 'a3c1b2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d' }, key: 'DATABASE_URL', version: 3, keyVersion: 1, ...over });
const PASSPHRASE = 'correct horse battery staple ünïcödé';

describe('console crypto matches the CLI', () => {
  it('derives the same key-encryption key (default and other parameters, UTF-8 passphrase)', async () => {
    for (const kdf of [cli.DEFAULT_KDF, { algorithm: 'argon2id' as const, memory_kib: 32_768, iterations: 3, parallelism: 2 }]) {
      const salt = randomBytes(16);
      const ours = await web.deriveKekBytes(PASSPHRASE, new Uint8Array(salt), kdf);
      expect(Buffer.from(ours).toString('hex')).toBe((await cli.deriveKek(PASSPHRASE, salt, kdf)).toString('hex'));
    }
  });

  it('builds the same additional data and enforces the same parameter bounds', () => {
    expect(web.KDF_BOUNDS).toEqual(SERVER_KDF_BOUNDS);
    expect(web.SALT_BYTES).toEqual(SERVER_SALT_BYTES);
    for (const scope of [{ level: 'project' } as const, { level: 'member', id: 'u-1' } as const, { level: 'service', id: 's-1' } as const]) {
      expect(web.valueBindingAad(binding({ scope }))).toBe(serverValueAad(binding({ scope })));
    }
    expect(web.wrapAad('o', 'p', 7)).toBe(serverWrapAad('o', 'p', 7));
  });

  it('unwraps a key the CLI wrapped (with ids and as first created, without) and refuses a wrong passphrase', async () => {
    const { key, wrapped } = await cli.createProjectKey(PASSPHRASE, null);
    const rewrapped = await cli.wrapProjectKey(key, PASSPHRASE, context, 1);
    for (const each of [wrapped, rewrapped]) {
      const unlocked = await web.unwrapProjectKey(material(each), PASSPHRASE);
      expect(unlocked).toMatchObject({ keyVersion: 1, ...context });
      expect(unlocked.key.extractable).toBe(false);
      const sealed = cli.encryptValue(key, 'postgres://u:p@h/db', binding());
      const { keyVersion: _, ...where } = binding();
      expect(await web.decryptValue(unlocked.key, sealed, where, 1)).toBe('postgres://u:p@h/db');
    }
    await expect(web.unwrapProjectKey(material(rewrapped), 'not the passphrase')).rejects.toThrow(/Wrong passphrase for this project/);
    // Bound to its project: the same wrapped key presented for another project does not open.
    await expect(web.unwrapProjectKey({ ...material(rewrapped), project_id: context.organizationId }, PASSPHRASE)).rejects.toThrow(/Wrong passphrase/);
  });

  it('refuses absurd or weak parameters from a server before deriving anything', async () => {
    const { wrapped } = await cli.createProjectKey(PASSPHRASE, context);
    for (const kdf of [{ memory_kib: 4 * 1024 * 1024 }, { memory_kib: 1024 }, { iterations: 1 }, { iterations: 1000 }, { parallelism: 64 }]) {
      await expect(web.unwrapProjectKey({ ...material(wrapped), kdf: { ...wrapped.kdf, ...kdf } }, PASSPHRASE)).rejects.toThrow(/Refusing the server's key parameters \(key\.kdf\./);
    }
    await expect(web.unwrapProjectKey({ ...material(wrapped), wrapped_key: wrapped.wrapped_key.slice(0, 40) }, PASSPHRASE)).rejects.toThrow(/unusable key material: key\.wrapped_key/);
    await expect(web.unwrapProjectKey(material(wrapped), '')).rejects.toThrow(/passphrase is empty/);
  });

  it('CLI → console and console → CLI, byte-compatible both ways; a moved, replayed or altered value is refused naming the key', async () => {
    const raw = randomBytes(32);
    const key = await web.importProjectKey(new Uint8Array(raw));
    const { keyVersion: _, ...where } = binding();
    const plaintexts = ['', 'hello', 'ünïcödé ✓ 🔐', 'x'.repeat(70_000)];
    for (const text of plaintexts) {
      expect(await web.decryptValue(key, cli.encryptValue(raw, text, binding()), where, 1)).toBe(text);
      const ours = await web.encryptValue(key, text, binding());
      expect(ours).toMatch(/^cfr-cmk:v1:1:[A-Za-z0-9_-]+$/);
      expect(cli.decryptValue(raw, ours, where, 1)).toBe(text);
    }

    const ours = await web.encryptValue(key, 's3cret', binding());
    // Moved to another key, scope, version or project: both sides refuse it, naming the key it was read as.
    for (const moved of [{ key: 'OTHER' }, { version: 2 }, { scope: { level: 'project' } as const }, { projectId: context.organizationId }]) {
      const target = { ...where, ...moved };
      await expect(web.decryptValue(key, ours, target, 1)).rejects.toThrow(new RegExp(`The value of ${target.key} \\(version ${target.version}\\) does not decrypt`));
      expect(() => cli.decryptValue(raw, ours, target, 1)).toThrow(/does not decrypt/);
      await expect(web.decryptValue(key, cli.encryptValue(raw, 's3cret', binding()), target, 1)).rejects.toThrow(/does not decrypt/);
    }
    // Altered: one bit of the ciphertext flipped, or truncated.
    const body = Buffer.from(ours.split(':')[3]!, 'base64url');
    body[body.length - 20]! ^= 1;
    await expect(web.decryptValue(key, `cfr-cmk:v1:1:${body.toString('base64url')}`, where, 1)).rejects.toThrow(/DATABASE_URL \(version 3\) does not decrypt/);
    await expect(web.decryptValue(key, `cfr-cmk:v1:1:${body.subarray(0, 20).toString('base64url')}`, where, 1)).rejects.toThrow(/DATABASE_URL \(version 3\) is not readable ciphertext/);
    // Under a key version that was rotated away.
    await expect(web.decryptValue(key, ours, where, 2)).rejects.toThrow(/key version 1, which was rotated away/);
    // Under another project key.
    const other = await web.importProjectKey(new Uint8Array(randomBytes(32)));
    await expect(web.decryptValue(other, ours, where, 1)).rejects.toThrow(/does not decrypt/);
  });

  it('reads base64url strictly, as the server does', () => {
    const bytes = new Uint8Array(randomBytes(45));
    expect(web.toBase64url(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
    expect(web.fromBase64url(web.toBase64url(bytes))).toEqual(bytes);
    for (const bad of ['a', 'ab=', 'a+b/', 'AB']) expect(web.fromBase64url(bad)).toBeNull();
  });
});
