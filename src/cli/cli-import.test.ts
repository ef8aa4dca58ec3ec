import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { server, fresh, coffer, ok, serviceUrl, envUrl, resolved } from '../../test/cli.js';
import { ROOT } from '../../test/processes.js';

/** coffer import (issue 14): other managers' exports in, all or nothing, with --dry-run. */

const fixture = (name: string) => path.join(ROOT, 'test/fixtures/imports', name);
const EXPECTED = {
  API_URL: 'https://api.example.test',
  DB_PASSWORD: 'fake-password-123',
  MULTILINE: 'line one\nline two',
  STRIPE_KEY: 'sk_test_FAKE_not_a_real_key',
};

type Listed = { key: string; type: string; version: number };
const listed = async (token: string, at: string) =>
  Object.fromEntries(((await server.expect(200, 'GET', `${at}/variables?limit=500`, { token })).body.items as Listed[]).map((v) => [v.key, v]));
const versions = async (token: string, at: string) => Object.fromEntries(Object.values(await listed(token, at)).map((v) => [v.key, v.version]));
const variableEvents = async (org: string, token: string) =>
  (await server.expect(200, 'GET', `/orgs/${org}/audit-events?target_type=variable&limit=500`, { token })).body.items as { change: string }[];

describe('coffer import', () => {
  it.each([
    ['dotenv', 'app.env'],
    ['json', 'app.json'],
    ['doppler', 'doppler.json'],
    ['infisical', 'infisical.json'],
    ['infisical', 'infisical.csv'],
    ['vault', 'vault-kv2.json'],
    ['vault', 'vault-plain.json'],
  ])('imports %s (%s) so that resolution gives back the same values, one audit event per variable', async (from, file) => {
    const tree = await server.tree();
    const token = tree.owner.token;
    const result = await ok(['import', fixture(file), '--from', from, '--path', 'shop/production/backend', '--secret-keys', '*_KEY,*PASSWORD*'], { token });
    expect(result.stderr).toContain('Imported 4 variables into shop/production/backend: 4 created, 0 updated, 0 unchanged');
    expect(`${result.stdout}${result.stderr}`).not.toContain('fake-password-123');
    expect(JSON.parse(await resolved(tree, 'env-json'))).toMatchObject(EXPECTED);
    const types = Object.fromEntries(Object.values(await listed(token, serviceUrl(tree.org))).map((v) => [v.key, v.type]));
    expect(types).toEqual({ API_URL: 'plain', DB_PASSWORD: 'secret', MULTILINE: 'plain', STRIPE_KEY: 'secret' });
    const events = await variableEvents(tree.org, token);
    expect(events.map((e) => e.change).sort()).toEqual([
      'Created secret DB_PASSWORD in shop/production/backend',
      'Created secret STRIPE_KEY in shop/production/backend',
      'Created variable API_URL in shop/production/backend',
      'Created variable MULTILINE in shop/production/backend',
    ]);
    if (from === 'doppler') expect(result.stderr).toContain("Left out DOPPLER_PROJECT: Doppler's own");
  });

  it('round-trips what coffer export wrote: dotenv and env-json out of one environment, into another', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    await server.expect(201, 'POST', `/orgs/${tree.org}/projects/shop/environments`, { token, payload: { slug: 'staging', type: 'STAGING' } });
    await server.expect(201, 'POST', `${envUrl(tree.org)}/variables`, { token, payload: { key: 'QUOTED', value: "it's a # and = value, with spaces " } });
    await server.expect(201, 'POST', `${envUrl(tree.org)}/variables`, { token, payload: { key: 'SECRET_ONE', type: 'secret', value: 'fake-secret-one' } });
    for (const [format, from] of [['dotenv', 'dotenv'], ['env-json', 'json']] as const) {
      const file = fresh(`export.${format}`);
      await ok(['export', '--path', 'shop/production', '--format', format, '-o', file], { token });
      await ok(['import', file, '--from', from, '--path', 'shop/staging'], { token });
      const staging = JSON.parse((await server.expect(200, 'GET', `/orgs/${tree.org}/projects/shop/environments/staging/resolve?format=env-json`, { token })).raw.body);
      const production = JSON.parse((await server.expect(200, 'GET', `${envUrl(tree.org)}/resolve?format=env-json`, { token })).raw.body);
      expect(staging).toEqual(production);
    }
  });

  it('--dry-run lists what would be created, updated or left alone, and writes nothing', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    const at = serviceUrl(tree.org);
    await server.expect(201, 'POST', `${at}/variables`, { token, payload: { key: 'API_URL', type: 'secret', value: 'https://api.example.test' } });
    await server.expect(201, 'POST', `${at}/variables`, { token, payload: { key: 'DB_PASSWORD', type: 'secret', value: 'fake-older-password' } });
    const before = await versions(token, at);
    const eventsBefore = (await variableEvents(tree.org, token)).length;
    const result = await ok(['import', fixture('vault-kv2.json'), '--from', 'vault', '--path', 'shop/production/backend', '--dry-run'], { token });
    expect(result.stdout.trimEnd().split('\n')).toEqual(['create     MULTILINE', 'create     STRIPE_KEY', 'update     DB_PASSWORD', 'unchanged  API_URL']);
    expect(result.stderr).toContain('Dry run, nothing written: would create 2, update 1, leave alone 1');
    expect(await versions(token, at)).toEqual(before);
    expect((await variableEvents(tree.org, token)).length).toBe(eventsBefore);
    const json = JSON.parse((await ok(['import', fixture('vault-kv2.json'), '--from', 'vault', '--path', 'shop/production/backend', '--dry-run', '--json'], { token })).stdout);
    expect(json).toEqual({ dry_run: true, created: ['MULTILINE', 'STRIPE_KEY'], updated: ['DB_PASSWORD'], unchanged: ['API_URL'] });
  });

  it('writes nothing when the server refuses one variable in the middle (an immutable one with another value)', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    const at = serviceUrl(tree.org);
    await server.expect(201, 'POST', `${at}/variables`, { token, payload: { key: 'KEY_500', value: 'fixed', immutable: true } });
    const file = fresh('big.json');
    fs.writeFileSync(file, JSON.stringify(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`KEY_${i}`, `fake-value-${i}`]))));
    const result = await coffer(['import', file, '--from', 'json', '--path', 'shop/production/backend'], { token });
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('KEY_500 is immutable');
    expect(await versions(token, at)).toEqual({ KEY_500: 1 });
    expect((await variableEvents(tree.org, token)).length).toBe(1);
  });

  it('refuses a file with invalid keys before sending anything, listing each with its line, without its value', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    const file = fresh('bad.env');
    fs.writeFileSync(file, 'GOOD=1\nlower.case=fake-secret-value\n9LIVES=x\n');
    const result = await coffer(['import', file, '--from', 'dotenv', '--path', 'shop/production'], { token });
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('2 of 3 variables cannot be stored; nothing was imported');
    expect(result.stderr).toContain('"lower.case" (line 2): the key must match');
    expect(result.stderr).toContain('e.g. LOWER_CASE');
    expect(result.stderr).toContain('"9LIVES" (line 3)');
    expect(result.stderr).not.toContain('fake-secret-value');
    expect(await listed(token, envUrl(tree.org))).toEqual({});
  });

  it('refuses a JSON number naming the key, and asks for --from', async () => {
    const tree = await server.tree();
    const file = fresh('numbers.json');
    fs.writeFileSync(file, '{"PORT": 8080}');
    const result = await coffer(['import', file, '--from', 'json', '--path', 'shop/production'], { token: tree.owner.token });
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('PORT holds a number, not a string');
    const missing = await coffer(['import', file, '--path', 'shop/production'], { token: tree.owner.token });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--from');
    const help = await ok(['import', '--help']);
    expect(help.stdout).toContain('doppler secrets download --no-file --format json');
    expect(help.stdout).toContain('--secret-keys');
  });
});
