import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Kysely, KyselyPlugin } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callListening, openTestDatabase, type TestDatabase } from '../../test/harness.js';
import { loadConfig } from '../config.js';
import { LocalKeyProvider, type KeyProvider } from '../kernel/crypto/key-provider.js';
import { decodeRootKey, RootKeyError, stageRootKeyFile, WrongRootKeyError } from '../kernel/crypto/root-key.js';
import { openEmbedded } from '../kernel/db/connect.js';
import { DataDirLockedError } from '../kernel/db/data-dir-lock.js';
import type { Database } from '../kernel/db/schema.js';
import { rotateRootKey } from '../modules/variables/rotate-root-key.js';
import { runServer } from '../server.js';
import { rotateRootKeyCommand } from './rotate-root-key-command.js';

/**
 * `coffer admin rotate-root-key` against a database a real server wrote (SPEC §4): every
 * data key is re-wrapped under the new root key in one transaction, values stay as they
 * are, the server then starts with the new key only, and every refusal changes nothing.
 */

const postgres = process.env.COFFER_TEST_BACKEND === 'postgres';
const silent = pino({ level: 'silent' });
const PASSWORD = 'correct horse battery staple';
const EMAIL = 'rotor@example.test';

let dir: string;
let dataDir: string;
let keyFile: string;
let database: TestDatabase | undefined;
/** The root key the data is currently under. */
let currentKey: Buffer;
/** The values created at organization and project scope, by key. */
const values: Record<string, string> = {
  ORG_SECRET: `org-${randomBytes(16).toString('hex')}`,
  API_KEY: `project-${randomBytes(16).toString('hex')}`,
  ENV_CERT: `env-${randomBytes(16).toString('hex')}`,
  DEPOT_TOKEN: `depot-${randomBytes(16).toString('hex')}`,
};

/** PGlite: the data directory and its root.key; PostgreSQL: DATABASE_URL and COFFER_ROOT_KEY (`rootKey`). */
function config(rootKey?: Buffer, extra: Record<string, string> = {}) {
  return loadConfig({
    PORT: '0',
    COFFER_DATA_DIR: dataDir,
    ...(database?.url ? { DATABASE_URL: database.url } : {}),
    ...(rootKey ? { COFFER_ROOT_KEY: rootKey.toString('base64') } : {}),
    ...extra,
  });
}

/** The configuration the data is served with now: the key file on PGlite, COFFER_ROOT_KEY on PostgreSQL. */
const currentConfig = () => config(postgres ? currentKey : undefined);

async function withDb<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  if (database) return fn(database.db);
  const handle = await openEmbedded(dataDir);
  try {
    return await fn(handle.db);
  } finally {
    await handle.close();
  }
}

interface Snapshot {
  keys: { id: string; provider: string; wrapped: string; rotated: boolean }[];
  auditKeys: { name: string; wrapped: string }[];
  ciphertexts: Record<string, string>;
  check: string;
}

async function snapshot(): Promise<Snapshot> {
  return withDb(async (db) => {
    const keys = await db.selectFrom('data_keys').select(['id', 'provider', 'wrapped', 'rotated_at']).orderBy('id').execute();
    const variables = await db.selectFrom('variables').select(['id', 'ciphertext']).orderBy('id').execute();
    const versions = await db.selectFrom('variable_versions').select(['variable_id', 'version', 'ciphertext']).execute();
    const check = await db.selectFrom('coffer_settings').select('value').where('name', '=', 'root_key_check').executeTakeFirstOrThrow();
    const auditKeys = await db.selectFrom('audit_keys').select(['name', 'wrapped']).orderBy('name').execute();
    return {
      keys: keys.map((k) => ({ id: k.id, provider: k.provider, wrapped: k.wrapped.toString('hex'), rotated: k.rotated_at !== null })),
      auditKeys: auditKeys.map((k) => ({ name: k.name, wrapped: k.wrapped?.toString('hex') ?? '' })),
      ciphertexts: Object.fromEntries([
        ...variables.map((v) => [v.id, v.ciphertext?.toString('hex') ?? '']),
        ...versions.map((v) => [`${v.variable_id}@${v.version}`, v.ciphertext?.toString('hex') ?? '']),
      ]),
      check: check.value.toString('hex'),
    };
  });
}

const keyFileText = () => (postgres ? '' : fs.readFileSync(keyFile, 'utf8'));

const call = callListening;

/** Starts a server with `cfg`, resolves production of both projects and stops it; key → value. */
async function resolveWith(cfg: ReturnType<typeof loadConfig>): Promise<Record<string, string>> {
  const running = await runServer(cfg, silent);
  try {
    const token = (await call(running.address, 'POST', '/auth/login', { email: EMAIL, password: PASSWORD })).token as string;
    const result: Record<string, string> = {};
    for (const project of ['shop', 'depot']) {
      const resolved = await call(running.address, 'GET', `/orgs/rotor/projects/${project}/environments/production/resolve`, undefined, token);
      for (const variable of resolved.variables as { key: string; value: string; scope: string }[]) {
        if (variable.scope !== 'builtin') result[variable.key] = variable.value;
      }
    }
    return result;
  } finally {
    await running.close();
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-rotate-'));
  dataDir = path.join(dir, 'data');
  keyFile = path.join(dataDir, 'root.key');
  if (postgres) {
    database = await openTestDatabase();
    currentKey = randomBytes(32);
  }

  // A real server writes the data: variables at organization, project and environment scope, in two projects.
  const running = await runServer(currentConfig(), silent);
  try {
    const address = running.address;
    await call(address, 'POST', '/auth/signup', { email: EMAIL, password: PASSWORD, name: 'rotor' });
    const token = (await call(address, 'POST', '/auth/login', { email: EMAIL, password: PASSWORD })).token as string;
    await call(address, 'POST', '/orgs', { slug: 'rotor' }, token);
    for (const project of ['shop', 'depot']) {
      await call(address, 'POST', '/orgs/rotor/projects', { slug: project }, token);
      await call(address, 'POST', `/orgs/rotor/projects/${project}/environments`, { slug: 'production', type: 'PRODUCTION' }, token);
    }
    await call(address, 'POST', '/orgs/rotor/variables', { key: 'ORG_SECRET', type: 'secret', value: values.ORG_SECRET }, token);
    const created = await call(address, 'POST', '/orgs/rotor/projects/shop/variables', { key: 'API_KEY', type: 'secret', value: 'first version' }, token);
    await call(address, 'PATCH', `/orgs/rotor/projects/shop/variables/${String(created.id)}`, { value: values.API_KEY }, token);
    await call(
      address,
      'POST',
      '/orgs/rotor/projects/shop/environments/production/variables',
      { key: 'ENV_CERT', type: 'file', value: values.ENV_CERT, mount_path: '/etc/cert.pem' },
      token,
    );
    await call(address, 'POST', '/orgs/rotor/projects/depot/variables', { key: 'DEPOT_TOKEN', type: 'secret', value: values.DEPOT_TOKEN }, token);
    const saved = await call(address, 'GET', '/orgs/rotor/audit-events/checkpoint', undefined, token);
    earlier.checkpoint = { checkpoint: saved.checkpoint, signature: saved.signature };
    earlier.publicKey = saved.public_key as string;
    const events = (await call(address, 'GET', '/orgs/rotor/audit-events?target_type=variable', undefined, token)).items as AuditEventItem[];
    earlier.orgSecretHmac = events.find((e) => e.details.after?.key === 'ORG_SECRET')!.details.after!.value_hmac;
    expect(earlier.orgSecretHmac).toMatch(/^hmac-sha256:/);
  } finally {
    await running.close();
  }
  if (!postgres) {
    // The embedded server generated the key file on its first start.
    currentKey = decodeRootKey(fs.readFileSync(keyFile, 'utf8'), keyFile);
  }
}, 120_000);

afterAll(async () => {
  await database?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** What an auditor kept before any rotation: a signed checkpoint, the published key, and the HMAC of ORG_SECRET. */
const earlier: { checkpoint?: unknown; publicKey?: string; orgSecretHmac?: string } = {};

type AuditEventItem = { details: { after?: { key?: string; value_hmac?: string } } };

/**
 * Starts a server with `cfg` and checks that what was saved before any rotation still holds:
 * the checkpoint verifies, the key is the published one, and the same secret value gets the
 * same HMAC (a variable created and removed again, so resolutions stay as they were).
 */
async function expectEarlierAuditStillValid(cfg: ReturnType<typeof loadConfig>): Promise<void> {
  const running = await runServer(cfg, silent);
  try {
    const address = running.address;
    const token = (await call(address, 'POST', '/auth/login', { email: EMAIL, password: PASSWORD })).token as string;
    const verdict = await call(address, 'POST', '/orgs/rotor/audit-events/verify', { checkpoints: [earlier.checkpoint] }, token);
    expect(verdict).toMatchObject({ ok: true, checkpoints: [{ ok: true }] });
    expect((await call(address, 'GET', '/orgs/rotor/audit-events/checkpoint-key', undefined, token)).public_key).toBe(earlier.publicKey);
    const copy = await call(address, 'POST', '/orgs/rotor/projects/depot/variables', { key: 'ORG_SECRET_COPY', type: 'secret', value: values.ORG_SECRET }, token);
    const listed = (await call(address, 'GET', '/orgs/rotor/audit-events?target_type=variable&limit=5', undefined, token)).items as AuditEventItem[];
    expect(listed.find((e) => e.details.after?.key === 'ORG_SECRET_COPY')!.details.after!.value_hmac).toBe(earlier.orgSecretHmac);
    await call(address, 'DELETE', `/orgs/rotor/projects/depot/variables/${String(copy.id)}`, undefined, token);
  } finally {
    await running.close();
  }
}

const expectedValues = () => ({ ORG_SECRET: values.ORG_SECRET, API_KEY: values.API_KEY, ENV_CERT: values.ENV_CERT, DEPOT_TOKEN: values.DEPOT_TOKEN });

/** Runs each of `bodies`, which must all fail, and checks that nothing about the data or the key file changed. */
async function expectNothingChanged(...bodies: (() => Promise<unknown>)[]): Promise<Error[]> {
  const before = await snapshot();
  const keyBefore = keyFileText();
  const errors: Error[] = [];
  for (const body of bodies) {
    const outcome = await body().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(outcome, 'the call should have failed').toBeInstanceOf(Error);
    errors.push(outcome as Error);
    expect(keyFileText()).toBe(keyBefore);
    if (!postgres) expect(fs.existsSync(`${keyFile}.new`)).toBe(false);
  }
  expect(await snapshot()).toEqual(before);
  return errors;
}

/** Counts the UPDATE statements a Kysely instance runs (transactions included). */
function countingUpdates(db: Kysely<Database>) {
  const counter = { updates: 0 };
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      if (args.node.kind === 'UpdateQueryNode') counter.updates++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return { db: db.withPlugin(plugin), counter };
}

describe(`rotate-root-key (${postgres ? 'PostgreSQL' : 'embedded PGlite'})`, () => {
  it('starts from data a server wrote: one data key per project and one for the organization', async () => {
    const state = await snapshot();
    expect(state.keys).toHaveLength(3);
    expect(new Set(state.keys.map((k) => k.provider))).toEqual(new Set([new LocalKeyProvider(currentKey).id]));
    expect(await resolveWith(currentConfig())).toEqual(expectedValues());
  }, 60_000);

  describe('refusals change nothing', () => {
    it('wants the new key given exactly one way', async () => {
      const print: string[] = [];
      const other = randomBytes(32).toString('base64');
      const newKeyFile = path.join(dir, 'one.key');
      fs.writeFileSync(newKeyFile, `${other}\n`, { mode: 0o600 });
      const attempts = [{}, { generate: false }, { newKey: other, generate: true }, { newKey: other, newKeyFile }, { newKeyFile, generate: true }];
      const errors = await expectNothingChanged(...attempts.map((options) => () => rotateRootKeyCommand(currentConfig(), options, (line) => print.push(line))));
      for (const error of errors) {
        expect(error.message).toMatch(/exactly one way/);
        expect(error.message).toContain('--new-key-file');
      }
      expect(print).toEqual([]);
    });

    it('refuses --generate when root.key is not the key in use (DATABASE_URL or COFFER_ROOT_KEY set)', async () => {
      const withUrl = postgres ? currentConfig() : config(undefined, { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/never' });
      // Embedded, but with the key given by COFFER_ROOT_KEY: there is no key file to replace either.
      const withKey = postgres ? currentConfig() : config(currentKey);
      const [error, again] = await expectNothingChanged(
        () => rotateRootKeyCommand(withUrl, { generate: true }, () => {}),
        () => rotateRootKeyCommand(withKey, { generate: true }, () => {}),
      );
      expect(error!.message).toContain('--new-key-file');
      expect(error!.message).toContain('DATABASE_URL');
      expect(again!.message).toContain('--new-key-file');
    });

    it.skipIf(!postgres)('refuses while a server runs on the database (it would wrap new data keys under the old key)', async () => {
      const running = await runServer(currentConfig(), silent);
      try {
        const [error] = await expectNothingChanged(() => rotateRootKeyCommand(currentConfig(), { newKey: randomBytes(32).toString('base64') }, () => {}));
        expect(error!.message).toMatch(/Coffer server is running on this database: stop every one/);
      } finally {
        await running.close();
      }
    }, 60_000);

    it('refuses a malformed new key file, naming the file and not echoing its contents', async () => {
      const cases = {
        short: randomBytes(31).toString('base64'),
        long: randomBytes(33).toString('base64'),
        stray: `${randomBytes(32).toString('base64')}#x`,
        text: 'hunter2-not-a-key-at-all-9f8e7d6c5b4a',
        twoLines: `${randomBytes(32).toString('base64')}\n${randomBytes(32).toString('base64')}\n`,
      };
      const files = Object.keys(cases).map((name) => path.join(dir, `malformed-${name}.key`));
      for (const [index, contents] of Object.values(cases).entries()) fs.writeFileSync(files[index]!, contents, { mode: 0o600 });
      const missing = path.join(dir, 'missing.key');
      const errors = await expectNothingChanged(
        ...files.map((file) => () => rotateRootKeyCommand(currentConfig(), { newKeyFile: file }, () => {})),
        // The same rules for COFFER_NEW_ROOT_KEY, named as such.
        () => rotateRootKeyCommand(currentConfig(), { newKey: cases.short }, () => {}),
        // A file that does not exist is named too.
        () => rotateRootKeyCommand(currentConfig(), { newKeyFile: missing }, () => {}),
      );
      for (const [index, [name, contents]] of Object.entries(cases).entries()) {
        const file = files[index]!;
        const error = errors[index]!;
        expect(error, name).toBeInstanceOf(RootKeyError);
        expect(error.message, name).toContain(file);
        for (const line of contents.split('\n').filter((l) => l !== '')) {
          expect(error.message, name).not.toContain(line);
          expect(error.message, name).not.toContain(line.slice(0, 16));
        }
      }
      const fromEnv = errors[files.length]!;
      expect(fromEnv).toBeInstanceOf(RootKeyError);
      expect(fromEnv.message).toContain('COFFER_NEW_ROOT_KEY');
      expect(fromEnv.message).not.toContain(cases.short.slice(0, 16));
      expect(errors[files.length + 1]!.message).toContain(missing);
    });

    it('refuses the current key as the new one', async () => {
      const file = path.join(dir, 'same.key');
      fs.writeFileSync(file, `${currentKey.toString('base64')}\n`, { mode: 0o600 });
      const errors = await expectNothingChanged(
        ...[{ newKey: currentKey.toString('base64') }, { newKeyFile: file }].map((options) => () => rotateRootKeyCommand(currentConfig(), options, () => {})),
      );
      for (const error of errors) {
        expect(error.message).toMatch(/new root key is the current one/);
        expect(error.message).not.toContain(currentKey.toString('base64'));
      }
    });

    it('refuses a wrong old key with WrongRootKeyError, leaving every wrapped key as it was', async () => {
      // COFFER_ROOT_KEY that is not the data's (on PGlite it overrides root.key).
      const [error] = await expectNothingChanged(() => rotateRootKeyCommand(config(randomBytes(32)), { newKey: randomBytes(32).toString('base64') }, () => {}));
      expect(error).toBeInstanceOf(WrongRootKeyError);
    });

    it.skipIf(postgres)('on PGlite, a root.key that is not the data\'s refuses --generate and leaves no staged key behind', async () => {
      const original = fs.readFileSync(keyFile, 'utf8');
      fs.writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
      try {
        const before = await snapshot();
        await expect(rotateRootKeyCommand(currentConfig(), { generate: true }, () => {})).rejects.toBeInstanceOf(WrongRootKeyError);
        expect(await snapshot()).toEqual(before);
        expect(fs.existsSync(`${keyFile}.new`)).toBe(false);
      } finally {
        fs.writeFileSync(keyFile, original, { mode: 0o600 });
      }
      expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    });

    it.skipIf(postgres)('on PGlite, refuses while a server holds the data directory', async () => {
      const running = await runServer(currentConfig(), silent);
      try {
        await expect(rotateRootKeyCommand(currentConfig(), { generate: true }, () => {})).rejects.toBeInstanceOf(DataDirLockedError);
        expect(fs.existsSync(`${keyFile}.new`)).toBe(false);
      } finally {
        await running.close();
      }
      expect(keyFileText().trim()).toBe(currentKey.toString('base64'));
    }, 60_000);
  });

  describe('atomicity', () => {
    /** Wraps with a real provider, but throws on wrap call number `failAt`. */
    function failingProvider(rootKey: Buffer, failAt: number): KeyProvider & { wraps: number } {
      const inner = new LocalKeyProvider(rootKey);
      return {
        id: 'test:failing',
        wraps: 0,
        async wrap(dataKey: Buffer) {
          this.wraps++;
          if (this.wraps === failAt) throw new Error('simulated provider failure');
          return inner.wrap(dataKey);
        },
        unwrap: (wrapped: Buffer) => inner.unwrap(wrapped),
      };
    }

    it('re-wraps nothing when the new provider fails on the second data key', async () => {
      const newKey = randomBytes(32);
      const provider = failingProvider(newKey, 2);
      const [error] = await expectNothingChanged(() =>
        withDb((db) => rotateRootKey(db, { oldRootKey: currentKey, newRootKey: newKey, oldProvider: new LocalKeyProvider(currentKey), newProvider: provider })),
      );
      expect(error!.message).toBe('simulated provider failure');
      expect(provider.wraps).toBe(2);
    });

    it('re-wraps nothing when the new provider does not give back what it wrapped', async () => {
      const newKey = randomBytes(32);
      const inner = new LocalKeyProvider(newKey);
      let unwraps = 0;
      const lying: KeyProvider = {
        id: 'test:lying',
        wrap: (dataKey) => inner.wrap(dataKey),
        // The first round trip is true, the second one is not.
        unwrap: async (wrapped) => (++unwraps === 2 ? randomBytes(32) : inner.unwrap(wrapped)),
      };
      const [error] = await expectNothingChanged(() =>
        withDb((db) => rotateRootKey(db, { oldRootKey: currentKey, newRootKey: newKey, oldProvider: new LocalKeyProvider(currentKey), newProvider: lying })),
      );
      expect(error!.message).toMatch(/does not unwrap what it wrapped/);
    });

    it('rolls back the re-wrapped keys when recording the new check fails after them', async () => {
      // Every data key re-wraps and is written; sealing the check with a 31-byte "key" then throws inside the transaction.
      const newKey = randomBytes(32);
      let updates = 0;
      const [error] = await expectNothingChanged(() =>
        withDb(async (db) => {
          const counting = countingUpdates(db);
          try {
            return await rotateRootKey(counting.db, {
              oldRootKey: currentKey,
              newRootKey: randomBytes(31),
              oldProvider: new LocalKeyProvider(currentKey),
              newProvider: new LocalKeyProvider(newKey),
            });
          } finally {
            updates = counting.counter.updates;
          }
        }),
      );
      expect(error).toBeInstanceOf(RangeError);
      // The three data keys and the audit log's two keys had been updated inside the transaction before it failed.
      expect(updates).toBe(3 + 2);
      // And the data is still served with the old key.
      expect(await resolveWith(currentConfig())).toEqual(expectedValues());
    }, 60_000);
  });

  describe('rotation', () => {
    it('re-wraps every data key, leaves values untouched, and the server then starts with the new key only', async () => {
      const before = await snapshot();
      const oldKey = currentKey;
      const printed: string[] = [];
      let newKey: Buffer;
      if (postgres) {
        newKey = randomBytes(32);
        expect(await rotateRootKeyCommand(config(oldKey), { newKey: newKey.toString('base64') }, (line) => printed.push(line))).toBe(3);
      } else {
        expect(await rotateRootKeyCommand(config(), { generate: true }, (line) => printed.push(line))).toBe(3);
        // root.key now holds the new key, still readable by its owner only, with nothing staged left over.
        newKey = decodeRootKey(fs.readFileSync(keyFile, 'utf8'), keyFile);
        expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
        expect(fs.existsSync(`${keyFile}.new`)).toBe(false);
      }
      expect(newKey.equals(oldKey)).toBe(false);
      currentKey = newKey;

      const newId = new LocalKeyProvider(newKey).id;
      expect(printed[0]).toMatch(/^Re-wrapped 3 data keys under the new root key/);
      expect(printed[0]).toContain(newId);
      expect(printed.join('\n')).not.toContain(newKey.toString('base64'));
      expect(printed.join('\n')).not.toContain(oldKey.toString('base64'));
      if (postgres) {
        expect(printed[1]).toMatch(/COFFER_ROOT_KEY/);
        expect(printed.join('\n')).not.toContain(database!.url!);
      } else {
        expect(printed[1]).toContain(keyFile);
      }

      const after = await snapshot();
      expect(after.keys.map((k) => k.id)).toEqual(before.keys.map((k) => k.id));
      for (const [index, key] of after.keys.entries()) {
        expect(key.wrapped).not.toBe(before.keys[index]!.wrapped);
        expect(key.provider).toBe(newId);
        expect(key.rotated).toBe(true);
        // The same data key, wrapped anew.
        const oldUnwrapped = await new LocalKeyProvider(oldKey).unwrap(Buffer.from(before.keys[index]!.wrapped, 'hex'));
        const newUnwrapped = await new LocalKeyProvider(newKey).unwrap(Buffer.from(key.wrapped, 'hex'));
        expect(newUnwrapped.equals(oldUnwrapped)).toBe(true);
      }
      // Values (current and every version) are not re-encrypted.
      expect(after.ciphertexts).toEqual(before.ciphertexts);
      expect(after.check).not.toBe(before.check);

      expect(await resolveWith(config(postgres ? newKey : undefined))).toEqual(expectedValues());
      await expect(runServer(config(oldKey), silent)).rejects.toBeInstanceOf(WrongRootKeyError);
      // The refused start left the data as it was.
      expect(await snapshot()).toEqual(after);

      // The audit log's keys were re-wrapped, not replaced: what an auditor saved before still holds.
      expect(after.auditKeys.map((k) => k.name)).toEqual(before.auditKeys.map((k) => k.name));
      for (const [index, key] of after.auditKeys.entries()) expect(key.wrapped).not.toBe(before.auditKeys[index]!.wrapped);
      await expectEarlierAuditStillValid(config(postgres ? newKey : undefined));
    }, 120_000);

    it('rotates again from a key file, and the server follows', async () => {
      const previous = currentKey;
      const newKey = randomBytes(32);
      const file = path.join(dir, 'next.key');
      fs.writeFileSync(file, `${newKey.toString('base64')}\n`, { mode: 0o600 });
      const printed: string[] = [];
      expect(await rotateRootKeyCommand(currentConfig(), { newKeyFile: file }, (line) => printed.push(line))).toBe(3);
      expect(printed[0]).toMatch(/^Re-wrapped 3 data keys/);
      currentKey = newKey;
      if (!postgres) {
        // On the embedded database root.key is the key in use, so it is replaced too.
        expect(fs.readFileSync(keyFile, 'utf8').trim()).toBe(newKey.toString('base64'));
      }
      expect(await resolveWith(currentConfig())).toEqual(expectedValues());
      await expect(runServer(config(previous), silent)).rejects.toBeInstanceOf(WrongRootKeyError);
      await expectEarlierAuditStillValid(currentConfig());
    }, 120_000);
  });
});

describe.skipIf(postgres)('rotate-root-key on a fresh embedded data directory (bugs found and fixed)', () => {
  /** A new data directory a server has started on once (so it holds the root key check). */
  async function startedDataDir(name: string, rootKey?: Buffer) {
    const data = path.join(dir, name);
    const cfg = () => loadConfig({ PORT: '0', COFFER_DATA_DIR: data, ...(rootKey ? { COFFER_ROOT_KEY: rootKey.toString('base64') } : {}) });
    await (await runServer(cfg(), silent)).close();
    return { data, file: path.join(data, 'root.key'), keyFileConfig: loadConfig({ COFFER_DATA_DIR: data }) };
  }

  // Was a bug: loadRootKey generated a root.key when none was there, even for existing data.
  it('a refused rotation writes no root.key into a directory served with COFFER_ROOT_KEY', async () => {
    const { file, keyFileConfig } = await startedDataDir('served-with-env-key', randomBytes(32));
    expect(fs.existsSync(file)).toBe(false);
    await expect(rotateRootKeyCommand(keyFileConfig, { generate: true }, () => {})).rejects.toThrow(/root\.key is missing/);
    expect(fs.existsSync(file), 'root.key was created by a refused rotation').toBe(false);
  }, 60_000);

  // Was a bug: staging removed root.key.new, the only key that opened the data after a crash
  // between the rotation's commit and the rename. Now the command refuses and names the file.
  it('a rotation retried after a crash between commit and rename keeps root.key.new', async () => {
    const { data, file, keyFileConfig } = await startedDataDir('crashed-rotation');
    const oldKey = decodeRootKey(fs.readFileSync(file, 'utf8'), file);
    const newKey = randomBytes(32);
    // What the command does up to its crash: stage the new key, commit the re-wrap, never rename.
    const staged = stageRootKeyFile(data, newKey);
    const handle = await openEmbedded(data);
    try {
      await rotateRootKey(handle.db, { oldRootKey: oldKey, newRootKey: newKey, oldProvider: new LocalKeyProvider(oldKey), newProvider: new LocalKeyProvider(newKey) });
    } finally {
      await handle.close();
    }
    expect(fs.readFileSync(staged.staged, 'utf8').trim()).toBe(newKey.toString('base64'));
    await expect(runServer(loadConfig({ PORT: '0', COFFER_DATA_DIR: data }), silent)).rejects.toBeInstanceOf(WrongRootKeyError);

    const refusal = rotateRootKeyCommand(keyFileConfig, { generate: true }, () => {});
    await expect(refusal).rejects.toBeInstanceOf(RootKeyError);
    await expect(refusal).rejects.toThrow(/root\.key\.new holds the key this data is under now/);
    expect(fs.existsSync(staged.staged), 'root.key.new, the only key that opens the data, was deleted').toBe(true);
    expect(fs.readFileSync(staged.staged, 'utf8').trim()).toBe(newKey.toString('base64'));
  }, 60_000);
});
