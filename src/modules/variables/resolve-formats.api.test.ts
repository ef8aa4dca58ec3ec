import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { server, scratch, type Resolved, projectUrl, envUrl, svcUrl, withCustomRole, idOf, define, resolved, expectError } from '../../../test/fixtures/resolve.js';

describe('formats through HTTP', () => {
  /** Stored value → the value every format must carry exactly. */
  const HOSTILE: Record<string, [string, string]> = {
    NEWLINES: ['line one\nline two\n\nline four\n', 'line one\nline two\n\nline four\n'],
    CRLF: ['windows\r\nline\rend', 'windows\r\nline\rend'],
    SINGLE_AND_DOUBLE: [`it's a "quoted" value`, `it's a "quoted" value`],
    SINGLE_AND_BACKTICK: ["it's `id` time", "it's `id` time"],
    DOUBLE_AND_BACKTICK: ['say "hi" with `echo`', 'say "hi" with `echo`'],
    DOLLARS: ['cost $5, $HOME, $(whoami), $$ and $', 'cost $5, $HOME, $(whoami), $$ and $'],
    ESCAPED_REFERENCE: ['literal $${HOME} and $${NOT_A_KEY} and $${', 'literal ${HOME} and ${NOT_A_KEY} and ${'],
    BACKTICKS: ['run `rm -rf /` now', 'run `rm -rf /` now'],
    HASH: ['value # not a comment', 'value # not a comment'],
    HASH_FIRST: ['#starts-with-hash', '#starts-with-hash'],
    UNICODE: ['ünïcødé ✓ 日本語 🎉 — Ω', 'ünïcødé ✓ 日本語 🎉 — Ω'],
    SEPARATORS: ['line\u2028separator\u2029paragraph', 'line\u2028separator\u2029paragraph'],
    PADDED: ['  padded both sides  ', '  padded both sides  '],
    BACKSLASHES: ['C:\\new\\table\\r\\', 'C:\\new\\table\\r\\'],
    TAB: ['a\tb', 'a\tb'],
    EMPTY: ['', ''],
    YAML_WORDS: ['yes', 'yes'],
    YAML_NUMBER: ['0123', '0123'],
    YAML_NULL: ['~', '~'],
    YAML_MAP: ['{a: 1}', '{a: 1}'],
    LEADING_QUOTE: [`'half`, `'half`],
    EQUALS: ['a=b=c', 'a=b=c'],
    CONTROL: ['bell\u0007 esc\u001b[31m del\u007f nel\u0085 bom\ufeff nbsp\u00a0', 'bell\u0007 esc\u001b[31m del\u007f nel\u0085 bom\ufeff nbsp\u00a0'],
    EXPORT_LOOKALIKE: ['x\nexport EVIL=1\nY=2', 'x\nexport EVIL=1\nY=2'],
    REFERENCE: ['<${UNICODE}>', '<ünïcødé ✓ 日本語 🎉 — Ω>'],
  };
  const expected = () => Object.fromEntries(Object.entries(HOSTILE).map(([key, [, value]]) => [key, value]));

  async function hostile() {
    const { owner, org } = await server.tree();
    // Every other one a secret: both types go through the same formats.
    for (const [index, [key, [value]]] of Object.entries(HOSTILE).entries()) {
      await define(svcUrl(org), owner.token, { key, value, type: index % 2 ? 'secret' : 'plain' });
    }
    return { owner, org };
  }

  const get = (org: string, token: string, format: string) => server.expect(200, 'GET', `${svcUrl(org)}/resolve?format=${format}`, { token });

  it('resolves hostile values identically through json, env-json, shell and yaml, with the right content types', async () => {
    const { owner, org } = await hostile();
    const envJson = await get(org, owner.token, 'env-json');
    expect(envJson.headers['content-type']).toMatch(/^application\/json/);
    const all = envJson.body as Record<string, string>;
    expect(all).toEqual({ ...expected(), COFFER_APPLICATION_BACKEND_URL: 'https://backend.internal' });

    const json = await get(org, owner.token, 'json');
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.fromEntries((json.body.variables as Resolved[]).map((v) => [v.key, v.value]))).toEqual(all);

    // dotenv refuses what its readers would read differently (see parser-matrix.test.ts).
    const dot = await server.request('GET', `${svcUrl(org)}/resolve?format=dotenv`, { token: owner.token });
    expectError(dot, 400, 'BAD_REQUEST');
    expect(Object.keys(all)).toContain(dot.body.error.details.key);

    const yaml = await get(org, owner.token, 'yaml');
    expect(yaml.headers['content-type']).toMatch(/^application\/yaml/);
    expect(YAML.parse(yaml.raw.body)).toEqual(all);
    // Also read as YAML 1.1, where yes, 0123 and ~ would turn into other types unless quoted.
    expect(YAML.parse(yaml.raw.body, { version: '1.1' })).toEqual(all);

    const shell = await get(org, owner.token, 'shell');
    expect(shell.headers['content-type']).toMatch(/^text\/plain/);
    const file = join(scratch, `shell-${randomBytes(3).toString('hex')}.sh`);
    writeFileSync(file, shell.raw.body);
    const sourced = spawnSync('/usr/bin/env', ['-i', '/bin/bash', '--noprofile', '--norc', '-c', '. "$0" && env -0', file], { encoding: 'utf8', timeout: 15_000 });
    expect(sourced.stderr).toBe('');
    expect(sourced.status).toBe(0);
    const exported = Object.fromEntries(
      sourced.stdout
        .split('\0')
        .filter((line) => line !== '')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(Object.fromEntries(Object.keys(all).map((key) => [key, exported[key]]))).toEqual(all);
    // Nothing else was defined: a value that looks like more lines of the file stayed one value.
    expect(Object.keys(exported).filter((key) => !(key in all)).sort()).toEqual(['PWD', 'SHLVL', '_']);
  });

  it('serves the pg_service format as text/plain, empty when there are no entries', async () => {
    const { owner, org } = await server.tree();
    const response = await get(org, owner.token, 'pg_service');
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.raw.body).toBe('');
  });

  it('answers every format with cache-control: no-store', async () => {
    const { owner, org } = await server.tree();
    for (const format of ['json', 'env-json', 'dotenv', 'docker', 'shell', 'yaml', 'pg_service']) {
      expect((await get(org, owner.token, format)).headers['cache-control'], format).toBe('no-store');
    }
  });

  it('serves dotenv that every dotenv reader and a shell read alike, and refuses a value they would not, naming the key and the formats that carry it', async () => {
    const { owner, org } = await server.tree();
    await define(svcUrl(org), owner.token, { key: 'REVIEW', value: "a'b'; touch pwned; echo 'c", type: 'secret' });
    await define(svcUrl(org), owner.token, { key: 'PRICE', value: 'costs $5' });
    const ok = await get(org, owner.token, 'dotenv');
    expect(ok.headers['content-type']).toMatch(/^text\/plain/);
    expect(ok.raw.body).toBe(`COFFER_APPLICATION_BACKEND_URL='https://backend.internal'\nPRICE='costs $5'\nREVIEW="a'b'; touch pwned; echo 'c"\n`);
    expect(dotenv.parse(ok.raw.body)).toEqual({ COFFER_APPLICATION_BACKEND_URL: 'https://backend.internal', PRICE: 'costs $5', REVIEW: "a'b'; touch pwned; echo 'c" });

    const secret = "it's $5 for s3cr3t-value-for-tests";
    await define(svcUrl(org), owner.token, { key: 'QUOTED_PRICE', value: secret, type: 'secret' });
    const refused = await server.request('GET', `${svcUrl(org)}/resolve?format=dotenv`, { token: owner.token });
    expectError(refused, 400, 'BAD_REQUEST');
    expect(refused.body.error.message).toMatch(/^Variable QUOTED_PRICE cannot be written as dotenv exactly \(.+\); use json, env-json, yaml, shell or docker$/);
    expect(refused.body.error.details).toEqual({ key: 'QUOTED_PRICE', format: 'dotenv', formats: ['json', 'env-json', 'yaml', 'shell', 'docker'] });
    expect(refused.raw.body).not.toContain('s3cr3t');
  });

  it('serves the docker format as KEY=value lines, refusing a value with a line break', async () => {
    const { owner, org } = await server.tree();
    await define(svcUrl(org), owner.token, { key: 'PADDED', value: ' spaced # "not" a comment ' });
    await define(svcUrl(org), owner.token, { key: 'TOKEN', value: "it's $5 `x`", type: 'secret' });
    const ok = await get(org, owner.token, 'docker');
    expect(ok.headers['content-type']).toMatch(/^text\/plain/);
    expect(ok.raw.body).toBe(`COFFER_APPLICATION_BACKEND_URL=https://backend.internal\nPADDED= spaced # "not" a comment \nTOKEN=it's $5 \`x\`\n`);

    await define(svcUrl(org), owner.token, { key: 'PEM', value: 'line one\nline two', type: 'secret' });
    const refused = await server.request('GET', `${svcUrl(org)}/resolve?format=docker`, { token: owner.token });
    expectError(refused, 400, 'BAD_REQUEST');
    expect(refused.body.error.message).toBe('Variable PEM cannot be written as docker exactly (it holds a line break; docker reads one line per variable); use json, env-json, yaml, shell or dotenv');
  });
});

describe('built-in variables', () => {
  const K = (output: string) => `COFFER_DATABASE_MY_POSTGRES_${output}`;
  const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
  const OUTPUTS = { host: 'pg.internal', port: '5432', username: 'shop_app', password: PASSWORD, database: 'shop' };

  async function withDatabase() {
    const { owner, org } = await server.tree();
    await server.expect(201, 'POST', `${envUrl(org)}/services`, { token: owner.token, payload: { slug: 'my-postgres', kind: 'database', outputs: OUTPUTS } });
    await define(envUrl(org), owner.token, {
      key: 'DATABASE_URL',
      type: 'secret',
      value: `postgres://\${${K('USERNAME')}}:\${${K('PASSWORD')}}@\${${K('HOST')}}:\${${K('PORT')}}/\${${K('DATABASE')}}`,
    });
    await define(envUrl(org), owner.token, { key: 'DATABASE_HOST_ONLY', value: `\${${K('HOST')}}:\${${K('PORT')}}` });
    const productionId = await idOf(envUrl(org), owner.token);
    const projectId = await idOf(projectUrl(org), owner.token);
    return { owner, org, productionId, projectId };
  }

  it('gives the owner every output of my-postgres as COFFER_DATABASE_MY_POSTGRES_*, and the variable built from them', async () => {
    const { owner, org } = await withDatabase();
    const body = await resolved(svcUrl(org), owner.token);
    const byKey = Object.fromEntries(body.variables.map((v) => [v.key, v]));
    expect(byKey[K('HOST')]).toEqual({ key: K('HOST'), value: 'pg.internal', type: 'plain', scope: 'builtin', variable_id: null });
    expect(byKey[K('PORT')]).toMatchObject({ value: '5432', scope: 'builtin' });
    expect(byKey[K('USERNAME')]).toMatchObject({ value: 'shop_app', scope: 'builtin' });
    expect(byKey[K('PASSWORD')]).toMatchObject({ value: PASSWORD, type: 'secret', scope: 'builtin' });
    expect(byKey[K('DATABASE')]).toMatchObject({ value: 'shop', scope: 'builtin' });
    expect(byKey.COFFER_APPLICATION_BACKEND_URL).toMatchObject({ value: 'https://backend.internal', scope: 'builtin' });
    expect(byKey.DATABASE_URL).toMatchObject({ value: `postgres://shop_app:${PASSWORD}@pg.internal:5432/shop`, scope: 'environment' });
    expect(body.omitted).toEqual([]);
    // The environment resolves the same built-ins.
    expect((await resolved(envUrl(org), owner.token)).variables.map((v) => v.key)).toEqual(body.variables.map((v) => v.key));
  });

  const WITHOUT_CREDENTIALS: [string, (ids: { productionId: string; projectId: string }) => Record<string, unknown>][] = [
    ['an environment permission set FULL_VISIBILITY', ({ productionId }) => ({ environment_permissions: [{ environment_id: productionId, permissions: ['FULL_VISIBILITY'] }] })],
    [
      'a project level DEPLOYER on PRODUCTION',
      ({ projectId }) => ({ project_permissions: [{ project_id: projectId, is_admin: false, permissions: [{ environment_type: 'PRODUCTION', permission: 'DEPLOYER' }] }] }),
    ],
  ];

  it.each(WITHOUT_CREDENTIALS)('leaves USERNAME, PASSWORD and DATABASE_URL out for %s (secret:decrypt without database:read_credentials)', async (_name, lists) => {
    const { owner, org, productionId, projectId } = await withDatabase();
    const member = await withCustomRole(owner.token, org, lists({ productionId, projectId }));
    const check = await server.expect(200, 'POST', `/orgs/${org}/authz/check`, {
      token: member.token,
      payload: { action: 'database:read_credentials', resource: 'shop/production/my-postgres' },
    });
    expect(check.body.allowed).toBe(false);

    const response = await server.expect(200, 'GET', `${svcUrl(org)}/resolve`, { token: member.token });
    const body = response.body as { variables: Resolved[]; omitted: string[] };
    const keys = body.variables.map((v) => v.key);
    expect(keys).toEqual(expect.arrayContaining([K('HOST'), K('PORT'), K('DATABASE'), 'DATABASE_HOST_ONLY']));
    expect(keys).not.toContain(K('USERNAME'));
    expect(keys).not.toContain(K('PASSWORD'));
    expect(keys).not.toContain('DATABASE_URL');
    expect(body.omitted).toEqual(['DATABASE_URL', K('PASSWORD'), K('USERNAME')].sort());
    expect(body.variables.find((v) => v.key === 'DATABASE_HOST_ONLY')?.value).toBe('pg.internal:5432');
    expect(response.raw.body).not.toContain(PASSWORD);
    expect(response.raw.body).not.toContain('shop_app');

    for (const format of ['env-json', 'dotenv', 'shell', 'yaml']) {
      const flat = await server.expect(200, 'GET', `${svcUrl(org)}/resolve?format=${format}`, { token: member.token });
      expect(flat.raw.body, format).not.toContain(PASSWORD);
      expect(flat.raw.body, format).not.toContain(K('USERNAME'));
      expect(flat.raw.body, format).toContain(K('HOST'));
    }
    // The owner, resolving right after from the same cached inputs, still gets them.
    expect((await resolved(svcUrl(org), owner.token)).omitted).toEqual([]);
  });

  it('lets a user variable override a credential key: it is no longer omitted', async () => {
    const { owner, org, productionId, projectId } = await withDatabase();
    const member = await withCustomRole(owner.token, org, WITHOUT_CREDENTIALS[0]![1]({ productionId, projectId }));
    await define(svcUrl(org), owner.token, { key: K('USERNAME'), value: 'overridden' });
    const body = await resolved(svcUrl(org), member.token);
    expect(body.variables.find((v) => v.key === K('USERNAME'))).toMatchObject({ value: 'overridden', scope: 'service' });
    expect(body.omitted).toEqual(['DATABASE_URL', K('PASSWORD')].sort());
  });
});

describe('built-ins and path-limited tokens', () => {
  it('gives a token limited to one service no built-ins of its sibling services', async () => {
    const { owner, org } = await server.tree();
    await server.expect(201, 'POST', `${envUrl(org)}/services`, {
      token: owner.token,
      payload: { slug: 'payments', kind: 'application', outputs: { url: 'https://payments.internal', api_token: 'canary_token_sibling_secret' } },
    });
    const limited = await server.mint(owner.token, org, { preset: 'ci', path: 'shop/production/backend' });
    const seen = await server.expect(200, 'GET', `${svcUrl(org)}/resolve`, { token: limited.token });
    const text = JSON.stringify(seen.body);
    expect(text).not.toContain('PAYMENTS');
    expect(text).not.toContain('canary_token_sibling_secret');
    expect(seen.body.variables.map((v: { key: string }) => v.key)).toContain('COFFER_APPLICATION_BACKEND_URL');
    // Whoever may decrypt across the environment still gets every service's built-ins.
    const owners = await server.expect(200, 'GET', `${svcUrl(org)}/resolve`, { token: owner.token });
    expect(owners.body.variables.find((v: { key: string }) => v.key === 'COFFER_APPLICATION_PAYMENTS_API_TOKEN')?.value).toBe('canary_token_sibling_secret');
  });
});
