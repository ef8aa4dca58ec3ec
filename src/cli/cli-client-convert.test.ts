import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { callListening } from '../../test/harness.js';
import { PSQL, coffer, ok, printEnv, psqlReachable, server, signUp, url, type CliOptions, type Place } from '../../test/cli.js';
import { unwrapProjectKey } from './client-keys.js';
import { canary } from '../../test/fixtures/encryption.js';
import { loadConfig } from '../config.js';
import { runServer } from '../server.js';

/**
 * Issue #13: `coffer projects encryption SLUG --to client|server` against a real server. After a
 * conversion to client, no value of the project, current or past, is in the database in a form
 * the server can open, nor in clear in any file of the data directory or in pg_dump; converting
 * back makes the server resolve it again.
 */

const PASSPHRASE = 'fake conversion passphrase';
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-convert-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const as = (place: Place, env: Record<string, string | undefined> = {}): CliOptions => ({ token: place.token, env: { COFFER_URL: place.url, COFFER_ORG: place.org, COFFER_PASSPHRASE: PASSPHRASE, ...env } });
const RUN = ['run', '--path', 'shop/production/api', '--'];

/** A server-managed project with secrets and files at three scopes, a member's override, an edited and a deleted secret. */
async function serverProject(place: Place) {
  const canaries: string[] = [];
  const expected: Record<string, string> = { LOG_LEVEL: 'debug' };
  const secret = (label: string) => {
    const value = canary(label);
    canaries.push(value);
    return value;
  };
  await ok(['projects', 'create', 'shop'], as(place));
  await ok(['envs', 'create', 'production', '--project', 'shop', '--type', 'PRODUCTION'], as(place));
  await ok(['services', 'create', 'api', '--project', 'shop', '--env', 'production', '--kind', 'application', '--output', 'url=https://api.internal'], as(place));
  for (const [scope, at] of [['P', 'shop'], ['E', 'shop/production'], ['S', 'shop/production/api']] as const) {
    expected[`${scope}_SECRET`] = secret(`${scope}secret`);
    await ok(['vars', 'set', '--path', at, '--secret', `${scope}_SECRET=${expected[`${scope}_SECRET`]}`], as(place));
    await ok(['vars', 'set', '--path', at, '--file', '--mount-path', `/etc/app/${scope}`, `${scope}_FILE=${secret(`${scope}file`)}`], as(place));
  }
  await ok(['vars', 'set', '--path', 'shop', 'LOG_LEVEL=debug', 'REF=${P_SECRET}@${COFFER_APPLICATION_API_URL}'], as(place));
  expected.REF = `${expected.P_SECRET}@https://api.internal`;
  // History the conversion must not leave behind: an older value, a deleted variable, and a member's override.
  await ok(['vars', 'set', '--path', 'shop/production', '--secret', `E_SECRET=${secret('Eold')}`], as(place));
  await ok(['vars', 'set', '--path', 'shop/production', '--secret', `E_SECRET=${expected.E_SECRET}`], as(place));
  await ok(['vars', 'set', '--path', 'shop', '--secret', `GONE=${secret('gone')}`], as(place));
  await ok(['vars', 'rm', 'GONE', '--path', 'shop'], as(place));
  expected.P_SECRET = secret('member');
  await ok(['vars', 'set', '--path', 'shop', '--member', place.userId, '--secret', `P_SECRET=${expected.P_SECRET}`], as(place));
  expected.REF = `${expected.P_SECRET}@https://api.internal`;
  // `at`: the same organization on a restarted server (another address).
  const check = async (env: Record<string, string | undefined> = {}, at: Place = place) => {
    const result = await ok([...RUN, ...printEnv(Object.keys(expected))], as(at, env));
    expect(JSON.parse(result.stdout)).toEqual(expected);
  };
  await check({ COFFER_PASSPHRASE: undefined });
  return { canaries, check };
}

/** After a conversion to client: the server's decrypting read, versions and resolution hold only ciphertext. */
async function expectOnlyCiphertext(place: Place, canaries: string[]) {
  const base = `/orgs/${place.org}/projects/shop`;
  const values = await callListening(place.url, 'GET', `${base}/encryption/values`, undefined, place.token);
  expect(values.encryption).toBe('client');
  for (const item of values.items as { value: string }[]) expect(item.value).toMatch(/^cfr-cmk:v1:1:/);
  const resolved = JSON.stringify(await callListening(place.url, 'GET', `${base}/environments/production/services/api/resolve`, undefined, place.token));
  for (const value of canaries) expect(resolved).not.toContain(value);
  const variables = (await callListening(place.url, 'GET', `${base}/environments/production/variables`, undefined, place.token)).items as { id: string; key: string }[];
  const history = await callListening(place.url, 'GET', `${base}/environments/production/variables/${variables.find((v) => v.key === 'E_SECRET')!.id}/versions`, undefined, place.token);
  expect((history.items as unknown[]).length).toBe(1);
}

async function convert(place: Place, to: 'client' | 'server') {
  const result = await ok(['projects', 'encryption', 'shop', '--to', to], as(place));
  return result.stderr;
}

function filesUnder(root: string): string[] {
  return fs.readdirSync(root, { withFileTypes: true, recursive: true }).filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

describe('coffer projects encryption: converting a project with the CLI', () => {
  it('on the embedded database: to client leaves no canary in any file of the data directory; back to server resolves again', async () => {
    const dir = path.join(scratch, 'pglite');
    const config = { PORT: '0', HOST: '127.0.0.1', COFFER_DATA_DIR: path.join(dir, 'data'), COFFER_CHECKPOINT_DIR: path.join(dir, 'checkpoints') };
    let running = await runServer(loadConfig(config));
    let place: Place;
    let canaries: string[];
    let check: (env?: Record<string, string | undefined>, at?: Place) => Promise<void>;
    try {
      place = await signUp(running.address, 'convertpg');
      ({ canaries, check } = await serverProject(place));
      const said = await convert(place, 'client');
      expect(said).toMatch(/Read 9 values of shop in clear/);
      expect(said).toMatch(/Converted shop to client-managed keys: re-encrypted 9 values; purged 13 older versions and 1 deleted variable \(purged, not re-encrypted/);
      await check();
      expect((await coffer([...RUN, ...printEnv(['P_SECRET'])], as(place, { COFFER_PASSPHRASE: 'not the passphrase' }))).code).toBe(6);
      await expectOnlyCiphertext(place, canaries);
    } finally {
      await running.close();
    }
    const files = filesUnder(dir);
    expect(files.filter((file) => file.includes(`${path.sep}pgdata${path.sep}`)).length).toBeGreaterThan(10);
    for (const value of canaries) expect(files.filter((file) => fs.readFileSync(file).includes(Buffer.from(value))), value).toEqual([]);

    running = await runServer(loadConfig(config));
    try {
      place = { ...place, url: running.address };
      expect(await convert(place, 'server')).toMatch(/Converted shop to server-managed keys: 9 values now sealed by the server; purged 9 older versions and 0 deleted variables/);
      await check({ COFFER_PASSPHRASE: undefined }, place);
      const flat = await ok(['export', '--path', 'shop/production/api', '--format', 'env-json'], as(place, { COFFER_PASSPHRASE: undefined }));
      expect(JSON.parse(flat.stdout)).toMatchObject({ LOG_LEVEL: 'debug' });
    } finally {
      await running.close();
    }
  }, 300_000);

  it.skipIf(!psqlReachable && process.env.CI !== 'true')('on PostgreSQL: to client leaves no canary in pg_dump; back to server resolves again', async () => {
    const name = `coffer_cmkconv_${randomBytes(4).toString('hex')}`;
    const admin = (statement: string) => spawnSync(PSQL, ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-Atc', statement], { encoding: 'utf8' });
    expect(admin(`create database ${name}`).status).toBe(0);
    try {
      const running = await runServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${name}`, COFFER_ROOT_KEY: randomBytes(32).toString('base64') }));
      try {
        const place = await signUp(running.address, 'convertpgsql');
        const { canaries, check } = await serverProject(place);
        expect(await convert(place, 'client')).toMatch(/re-encrypted 9 values; purged 13 older versions and 1 deleted variable/);
        await check();
        await expectOnlyCiphertext(place, canaries);
        const dump = spawnSync('/usr/bin/pg_dump', ['-h', '127.0.0.1', '-U', 'postgres', name], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
        expect(dump.status, dump.stderr).toBe(0);
        expect(dump.stdout).toContain('project_keys');
        for (const value of canaries) {
          expect(dump.stdout.includes(value), value).toBe(false);
          expect(dump.stdout.includes(Buffer.from(value).toString('hex')), value).toBe(false);
        }
        await convert(place, 'server');
        await check({ COFFER_PASSPHRASE: undefined });
      } finally {
        await running.close();
      }
    } finally {
      admin(`drop database if exists ${name}`);
    }
  }, 300_000);

  it('refuses --to with anything but client or server, before any request', async () => {
    const result = await coffer(['projects', 'encryption', 'shop', '--to', 'sideways'], { env: { COFFER_ORG: 'acme', COFFER_TOKEN: 'cfr_x' } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--to must be client or server \(got "sideways"\)/);
  });

  it('coffer projects create --encryption client binds the first wrap to the organization and the project', async () => {
    const tree = await server.tree();
    const place: Place = { url, token: tree.owner.token, userId: tree.owner.id, org: tree.org };
    await ok(['projects', 'create', 'vault', '--encryption', 'client'], as(place));
    const material = (await server.expect(200, 'GET', `/orgs/${tree.org}/projects/vault/key`, { token: tree.owner.token })).body;
    const projectId = (await server.expect(200, 'GET', `/orgs/${tree.org}/projects/vault`, { token: tree.owner.token })).body.id;
    expect(material.project_id).toBe(projectId);
    await unwrapProjectKey(material, PASSPHRASE, { organizationId: material.organization_id, projectId });
    const shop = (await server.expect(200, 'GET', `/orgs/${tree.org}/projects/shop`, { token: tree.owner.token })).body.id;
    await expect(unwrapProjectKey(material, PASSPHRASE, { organizationId: material.organization_id, projectId: shop })).rejects.toThrow(/Wrong passphrase/);
  }, 120_000);
});
