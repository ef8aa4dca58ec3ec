import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { callListening } from '../../test/harness.js';
import { PSQL, coffer, node, ok, printEnv, psqlReachable, server, signUp, url, type CliOptions, type Place } from '../../test/cli.js';
import { canary } from '../../test/fixtures/encryption.js';
import { loadConfig } from '../config.js';
import { runServer } from '../server.js';

/**
 * Issue #13 end to end: a client-managed project's life through the CLI against a real server,
 * then proof that neither the database (pg_dump, every file of the data directory) nor the
 * server's own decryption path yields any of its plaintexts.
 */

const PASSPHRASE = 'fake life passphrase one';
const NEW_PASSPHRASE = 'fake life passphrase two';
const PER_TYPE = 10;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-cmk-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const as = (place: Place, env: Record<string, string | undefined> = {}): CliOptions => ({ token: place.token, env: { COFFER_URL: place.url, COFFER_ORG: place.org, COFFER_PASSPHRASE: PASSPHRASE, ...env } });

/** Creates the project, sets PER_TYPE values of each type at three scopes and a member override, runs, rotates, changes the passphrase, runs again. */
async function life(place: Place): Promise<string[]> {
  const canaries: string[] = [];
  const expected: Record<string, string> = {};
  await ok(['projects', 'create', 'vault', '--encryption', 'client'], as(place));
  await ok(['envs', 'create', 'production', '--project', 'vault', '--type', 'PRODUCTION'], as(place));
  await ok(['services', 'create', 'api', '--project', 'vault', '--env', 'production', '--kind', 'application', '--output', 'url=https://api.internal'], as(place));
  for (const [scope, at] of [['P', 'vault'], ['E', 'vault/production'], ['S', 'vault/production/api']] as const) {
    for (const [type, flags] of [['plain', []], ['secret', ['--secret']], ['file', ['--file', '--mount-path', '/etc/app/file']]] as const) {
      const assignments = Array.from({ length: PER_TYPE }, (_, i) => {
        const value = canary(`${scope}${type}${i}`);
        canaries.push(value);
        if (type !== 'file') expected[`${scope}_${type.toUpperCase()}_${i}`] = value;
        return `${scope}_${type.toUpperCase()}_${i}=${value}`;
      });
      await ok(['vars', 'set', '--path', at, ...flags, ...assignments], as(place));
    }
  }
  // A reference, expanded by the client, and a member's own override of a project value.
  await ok(['vars', 'set', '--path', 'vault/production', 'REF=${P_PLAIN_0}/${COFFER_APPLICATION_API_URL}'], as(place));
  const override = canary('MEMBER');
  canaries.push(override);
  await ok(['vars', 'set', '--path', 'vault', '--member', place.userId, '--secret', `P_SECRET_1=${override}`], as(place));
  expected.P_SECRET_1 = override;
  expected.REF = `${expected.P_PLAIN_0}/https://api.internal`;

  const keys = Object.keys(expected);
  const check = async (env: Record<string, string | undefined> = {}) => {
    const result = await ok(['run', '--path', 'vault/production/api', '--', ...printEnv(keys)], as(place, env));
    expect(JSON.parse(result.stdout)).toEqual(expected);
  };
  await check();
  // coffer vars get decrypts plain values; secrets stay write-only.
  expect((await ok(['vars', 'get', 'E_PLAIN_3', '--path', 'vault/production'], as(place))).stdout).toBe(`${expected.E_PLAIN_3}\n`);
  expect((await ok(['vars', 'get', 'E_SECRET_3', '--path', 'vault/production'], as(place))).stdout).toBe('********\n');

  await ok(['projects', 'rotate-key', 'vault'], as(place));
  await check();
  await ok(['projects', 'passphrase', 'vault'], as(place, { COFFER_NEW_PASSPHRASE: NEW_PASSPHRASE }));
  await check({ COFFER_PASSPHRASE: NEW_PASSPHRASE });
  const stale = await coffer(['run', '--path', 'vault/production/api', '--', ...printEnv(keys)], as(place));
  expect(stale.code).toBe(6);
  expect(stale.stderr).toMatch(/Wrong passphrase/);
  const exported = await ok(['export', '--path', 'vault/production/api', '--format', 'env-json'], as(place, { COFFER_PASSPHRASE: NEW_PASSPHRASE }));
  expect(JSON.parse(exported.stdout)).toMatchObject(expected);

  // The server, holding the root key and the whole database, has only ciphertext to give.
  const base = `/orgs/${place.org}/projects/vault/environments/production/services/api/resolve`;
  const json = JSON.stringify(await callListening(place.url, 'GET', base, undefined, place.token));
  for (const value of canaries) expect(json).not.toContain(value);
  await expect(callListening(place.url, 'GET', `${base}?format=dotenv`, undefined, place.token)).rejects.toThrow(/409 .*Project vault is client-managed/);
  return canaries;
}

function filesUnder(root: string): string[] {
  return fs.readdirSync(root, { withFileTypes: true, recursive: true }).filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

describe('client-managed keys: a project\'s life through the CLI', () => {
  it('on the embedded database: run sees plaintext, and no file of the data directory holds any', async () => {
    const dir = path.join(scratch, 'pglite');
    const running = await runServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', COFFER_DATA_DIR: path.join(dir, 'data'), COFFER_CHECKPOINT_DIR: path.join(dir, 'checkpoints') }));
    let canaries: string[];
    try {
      canaries = await life(await signUp(running.address, 'lifepg'));
    } finally {
      await running.close();
    }
    const files = filesUnder(dir);
    expect(files.filter((file) => file.includes(`${path.sep}pgdata${path.sep}`)).length).toBeGreaterThan(10);
    for (const value of canaries) expect(files.filter((file) => fs.readFileSync(file).includes(Buffer.from(value))), value).toEqual([]);
  }, 300_000);

  it.skipIf(!psqlReachable && process.env.CI !== 'true')('on PostgreSQL: run sees plaintext, and pg_dump of the database holds none', async () => {
    const name = `coffer_cmk_${randomBytes(4).toString('hex')}`;
    const admin = (statement: string) => spawnSync(PSQL, ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-Atc', statement], { encoding: 'utf8' });
    expect(admin(`create database ${name}`).status).toBe(0);
    try {
      const running = await runServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${name}`, COFFER_ROOT_KEY: randomBytes(32).toString('base64') }));
      let canaries: string[];
      try {
        canaries = await life(await signUp(running.address, 'lifepgsql'));
      } finally {
        await running.close();
      }
      const dump = spawnSync('/usr/bin/pg_dump', ['-h', '127.0.0.1', '-U', 'postgres', name], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      expect(dump.status, dump.stderr).toBe(0);
      expect(dump.stdout).toContain('project_keys');
      for (const value of canaries) {
        expect(dump.stdout.includes(value), value).toBe(false);
        expect(dump.stdout.includes(Buffer.from(value).toString('hex')), value).toBe(false);
      }
    } finally {
      admin(`drop database if exists ${name}`);
    }
  }, 300_000);
});

describe('client-managed keys: what the client refuses', () => {
  async function clientProject() {
    const tree = await server.tree();
    const place: Place = { url, token: tree.owner.token, userId: tree.owner.id, org: tree.org };
    await ok(['projects', 'create', 'vault', '--encryption', 'client'], as(place));
    await ok(['envs', 'create', 'production', '--project', 'vault', '--type', 'PRODUCTION'], as(place));
    await ok(['vars', 'set', '--path', 'vault/production', 'FIRST=fake-first', 'SECOND=fake-second'], as(place));
    return place;
  }
  const run = (place: Place, env: Record<string, string> = {}) => coffer(['run', '--path', 'vault/production', '--', ...node('')], as(place, env));

  it('detects a ciphertext moved to another key, naming the key', async () => {
    const place = await clientProject();
    const base = `/orgs/${place.org}/projects/vault/environments/production/variables`;
    const items = (await server.expect(200, 'GET', base, { token: place.token })).body.items as { id: string; key: string; value: string; version: number }[];
    const first = items.find((v) => v.key === 'FIRST')!;
    const second = items.find((v) => v.key === 'SECOND')!;
    // A malicious writer with secret:write copies FIRST's ciphertext over SECOND, at the right version.
    await server.expect(200, 'PATCH', `${base}/${second.id}`, { token: place.token, payload: { value: first.value, version: 2 } });
    const result = await run(place);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/The value of SECOND \(version 2\) does not decrypt/);
  }, 120_000);

  it('detects an older ciphertext replayed as a newer version, naming the key', async () => {
    const place = await clientProject();
    const base = `/orgs/${place.org}/projects/vault/environments/production/variables`;
    const first = ((await server.expect(200, 'GET', base, { token: place.token })).body.items as { id: string; key: string; value: string }[]).find((v) => v.key === 'FIRST')!;
    await server.expect(200, 'PATCH', `${base}/${first.id}`, { token: place.token, payload: { value: first.value, version: 2 } });
    const replayed = await run(place);
    expect(replayed.code).toBe(6);
    expect(replayed.stderr).toMatch(/The value of FIRST \(version 2\) does not decrypt/);
  }, 120_000);

  it('vars import in a client-managed project encrypts each value here, one request each (the batch route takes no ciphertext)', async () => {
    const place = await clientProject();
    const file = path.join(scratch, 'client.env');
    fs.writeFileSync(file, 'FIRST=fake-first-changed\nTHIRD=fake-third\n');
    const result = await ok(['vars', 'import', file, '--path', 'vault/production', '--secret'], as(place));
    expect(result.stderr).toContain(`Imported 2 variables from ${file}: 1 created, 1 updated`);
    const ran = await ok(['run', '--path', 'vault/production', '--', ...printEnv(['FIRST', 'SECOND', 'THIRD'])], as(place));
    expect(JSON.parse(ran.stdout)).toEqual({ FIRST: 'fake-first-changed', SECOND: 'fake-second', THIRD: 'fake-third' });
  }, 120_000);

  it('refuses absurd Argon2 parameters from a malicious server, and a wrong passphrase writes nothing', async () => {
    const place = await clientProject();
    const wrong = await coffer(['vars', 'set', '--path', 'vault/production', 'FIRST=fake-changed'], as(place, { COFFER_PASSPHRASE: 'not the passphrase' }));
    expect(wrong.code).toBe(6);
    expect(wrong.stderr).toMatch(/Wrong passphrase for this project/);
    const listed = (await server.expect(200, 'GET', `/orgs/${place.org}/projects/vault/environments/production/variables`, { token: place.token })).body.items as { key: string; version: number }[];
    expect(listed.find((v) => v.key === 'FIRST')!.version).toBe(1);
    await server.db.updateTable('project_keys').set({ kdf_memory_kib: 64 * 1024 * 1024, kdf_iterations: 1_000 }).execute();
    const result = await run(place);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/Refusing the server's key parameters/);
  }, 120_000);
});
