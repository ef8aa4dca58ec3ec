import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import dotenv from 'dotenv';
import { describe, expect, it } from 'vitest';
import { TOKEN_FORMAT, server, fresh, coffer, ok, PLACE, serviceUrl, define, resolved, masked, node } from '../../test/cli.js';

describe('management commands', () => {
  it('orgs ls: a table, and --json', async () => {
    const tree = await server.tree();
    const human = await ok(['orgs', 'ls'], { token: tree.owner.token });
    const [header, row, ...rest] = human.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^SLUG\s+NAME\s+ROLE$/);
    expect(row).toMatch(new RegExp(`^${tree.org}\\s+.*\\s+OWNER$`));
    expect(rest).toEqual([]);
    const json = JSON.parse((await ok(['orgs', 'ls', '--json'], { token: tree.owner.token })).stdout) as { slug: string; role: string }[];
    expect(json).toEqual([expect.objectContaining({ slug: tree.org, role: 'OWNER' })]);
  });

  it('projects create/ls and envs create/ls', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    const created = await ok(['projects', 'create', 'web'], { token });
    expect(created.stderr).toContain('Created project web');
    const projects = await ok(['projects', 'ls'], { token });
    expect(projects.stdout.split('\n')[0]).toMatch(/^SLUG\s+NAME\s+DESCRIPTION$/);
    expect(projects.stdout).toMatch(/^shop\b/m);
    expect(projects.stdout).toMatch(/^web\b/m);
    const projectsJson = JSON.parse((await ok(['projects', 'ls', '--json'], { token })).stdout) as { slug: string }[];
    expect(projectsJson.map((p) => p.slug).sort()).toEqual(['shop', 'web']);

    await ok(['envs', 'create', 'staging', '--project', 'web', '--type', 'STAGING'], { token });
    const envs = await ok(['envs', 'ls', '--project', 'web'], { token });
    expect(envs.stdout).toMatch(/^SLUG\s+NAME\s+TYPE$/m);
    expect(envs.stdout).toMatch(/^staging\s+.*STAGING$/m);
    const envsJson = JSON.parse((await ok(['envs', 'ls', '--project', 'web', '--json'], { token })).stdout) as { slug: string; type: string }[];
    expect(envsJson).toEqual([expect.objectContaining({ slug: 'staging', type: 'STAGING' })]);

    const missing = await coffer(['envs', 'ls'], { token });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('--project');
    const duplicate = await coffer(['projects', 'create', 'web'], { token });
    expect(duplicate.code).toBe(6);
    // Refused before any request, listing the types (a usage error, as an unknown --kind is).
    const badType = await coffer(['envs', 'create', 'qa', '--project', 'web', '--type', 'NOPE'], { token });
    expect(badType.code).toBe(2);
    expect(badType.stderr).toContain('--type "NOPE" is not an environment type: use DEVELOPMENT, PREVIEW, STAGING, PRODUCTION');
  });

  it('vars set/get/ls/history/rollback/rm on one variable', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    const at = ['--path', 'shop/production'];
    expect((await ok(['vars', 'set', ...at, 'LOG_LEVEL=info'], { token })).stderr).toContain('Created LOG_LEVEL (version 1)');
    expect((await ok(['vars', 'set', ...at, 'LOG_LEVEL=debug'], { token })).stderr).toContain('Updated LOG_LEVEL (version 2)');
    expect((await ok(['vars', 'get', 'LOG_LEVEL', ...at], { token })).stdout).toBe('debug\n');
    const got = JSON.parse((await ok(['vars', 'get', 'LOG_LEVEL', ...at, '--json'], { token })).stdout) as { key: string; value: string; version: number };
    expect(got).toMatchObject({ key: 'LOG_LEVEL', value: 'debug', version: 2, type: 'plain' });

    const ls = await ok(['vars', 'ls', ...at], { token });
    expect(ls.stdout).toMatch(/^KEY\s+TYPE\s+VALUE\s+VERSION\s+IMMUTABLE$/m);
    expect(ls.stdout).toMatch(/^LOG_LEVEL\s+plain\s+debug\s+2\s+false$/m);

    const history = await ok(['vars', 'history', 'LOG_LEVEL', ...at], { token });
    const rows = history.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^VERSION\s+OPERATION\s+VALUE\s+ACTOR\s+CREATED_AT$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/).slice(0, 3))).toEqual([
      ['2', 'UPDATE', 'debug'],
      ['1', 'CREATE', 'info'],
    ]);
    const historyJson = JSON.parse((await ok(['vars', 'history', 'LOG_LEVEL', ...at, '--json'], { token })).stdout) as { version: number }[];
    expect(historyJson.map((v) => v.version)).toEqual([2, 1]);

    expect((await ok(['vars', 'rollback', 'LOG_LEVEL', '1', ...at], { token })).stderr).toContain('Rolled LOG_LEVEL back to version 1 (now version 3)');
    expect((await ok(['vars', 'get', 'LOG_LEVEL', ...at], { token })).stdout).toBe('info\n');

    expect((await ok(['vars', 'rm', 'LOG_LEVEL', ...at], { token })).stderr).toContain('Deleted LOG_LEVEL');
    const gone = await coffer(['vars', 'get', 'LOG_LEVEL', ...at], { token });
    expect(gone.code).toBe(5);
    expect(gone.stderr).toContain('No variable LOG_LEVEL');
    expect((await ok(['vars', 'ls', ...at], { token })).stdout).toBe('(none)\n');
    expect((await coffer(['vars', 'rm', 'LOG_LEVEL', ...at], { token })).code).toBe(5);
  });

  it('vars at the organization scope (no --path) and bad input', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    await ok(['vars', 'set', 'ORG_WIDE=yes'], { token });
    expect((await ok(['vars', 'ls'], { token })).stdout).toMatch(/^ORG_WIDE\s+plain\s+yes\s+1\s+false$/m);
    const lower = await coffer(['vars', 'set', 'lower_case=x'], { token });
    expect(lower.code).toBe(6);
    expect(lower.stderr).toContain('Key "lower_case" is not valid');
    const noEquals = await coffer(['vars', 'set', 'JUST_A_KEY'], { token });
    expect(noEquals.code).toBe(2);
    expect(noEquals.stderr).toContain('KEY=VALUE');
    const immutable = await ok(['vars', 'set', '--immutable', 'FIXED=1'], { token });
    expect(immutable.stderr).toContain('Created FIXED');
    const edit = await coffer(['vars', 'set', 'FIXED=2'], { token });
    expect(edit.code).toBe(6);
    expect(edit.stderr).toMatch(/immutable/i);
  });

  it('vars ls/get show secrets masked exactly as the server masks them, never in clear', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    const secrets: Record<string, string> = {
      SHORT: 'abcdefghijklmnopqrstuvw', // 23: fully masked
      LONGER: 'abcdefghijklmnopqrstuvwx', // 24: first and last three
      LONG: `canary_secret_${randomBytes(12).toString('hex')}`,
      EMOJI: '🌍é漢字abcdefghijklmnopqr🔑ü', // 24 code points
    };
    for (const [key, value] of Object.entries(secrets)) await ok(['vars', 'set', '--path', PLACE, '--secret', `${key}=${value}`], { token });
    const listed = (await server.expect(200, 'GET', `${serviceUrl(tree.org)}/variables`, { token })).body.items as { key: string; value: string }[];

    const ls = await ok(['vars', 'ls', '--path', PLACE], { token });
    const lsJson = JSON.parse((await ok(['vars', 'ls', '--path', PLACE, '--json'], { token })).stdout) as { key: string; value: string; type: string }[];
    for (const [key, value] of Object.entries(secrets)) {
      const shown = masked(value);
      expect(listed.find((v) => v.key === key)!.value).toBe(shown);
      expect(ls.stdout).toMatch(new RegExp(`^${key}\\s+secret\\s+${shown.replace(/\*/g, '\\*')}\\s+1\\s+false$`, 'mu'));
      expect(lsJson.find((v) => v.key === key)).toMatchObject({ type: 'secret', value: shown });
      const get = await ok(['vars', 'get', key, '--path', PLACE], { token });
      expect(get.stdout).toBe(`${shown}\n`);
      for (const output of [ls.stdout, ls.stderr, get.stdout, get.stderr, JSON.stringify(lsJson)]) expect(output).not.toContain(value);
    }
    expect(masked(secrets.SHORT!)).toBe('********');
    expect(masked(secrets.LONGER!)).toBe('abc********vwx');
    expect(masked(secrets.EMOJI!)).toBe('🌍é漢********r🔑ü');
  });

  it('vars ls shows a pg_service entry by its service name with its password masked', async () => {
    const tree = await server.tree();
    await define(tree, { type: 'pg_service', pg_service: { service: 'gis', host: 'db', dbname: 'gis', user: 'u', password: 'pg-password-secret' } });
    const token = tree.owner.token;
    const ls = await ok(['vars', 'ls', '--path', PLACE], { token });
    expect(ls.stdout).toMatch(/^gis\s+pg_service\s+\(pg_service\)\s+1\s+false$/m);
    const get = await ok(['vars', 'get', 'gis', '--path', PLACE], { token });
    expect(JSON.parse(get.stdout)).toMatchObject({ service: 'gis', password: masked('pg-password-secret') });
    expect(get.stdout + ls.stdout).not.toContain('pg-password-secret');
  });

  // Was a product bug (fixed): `vars set KEY=V` without --secret on an existing secret PATCHes it with
  // type 'plain' (vars.ts, `const type = options.file ? 'file' : options.secret ? 'secret' : 'plain'`,
  // sent on every update), so rotating a secret's value forgets --secret once and the secret
  // silently becomes a plain variable, readable in clear by anyone with secret:read.
  // Expected: an update keeps the type unless a type flag is given.
  it('updating a secret without --secret keeps it a secret (masked)', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    await ok(['vars', 'set', '--path', PLACE, '--secret', 'STRIPE_KEY=canary_secret_original_value'], { token });
    await ok(['vars', 'set', '--path', PLACE, 'STRIPE_KEY=canary_secret_rotated_value'], { token });
    const get = JSON.parse((await ok(['vars', 'get', 'STRIPE_KEY', '--path', PLACE, '--json'], { token })).stdout) as { type: string; value: string };
    expect(get.type).toBe('secret');
    expect(get.value).toBe(masked('canary_secret_rotated_value'));
  });

  it('vars import: a dotenv file of 20 entries, created then updated, with counts', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    const file = fresh('app.env');
    const lines = [
      '# a comment line',
      'PLAIN_ONE=one',
      'export EXPORTED=with export prefix',
      'QUOTED="double quoted # not a comment"',
      "SINGLE='single $HOME quoted'",
      'MULTILINE="first line\nsecond line"',
      'SPACED =  trimmed value  ',
      'INLINE_COMMENT=value # comment',
      'EMPTY=',
      'URL=postgres://user:p%40ss@db:5432/app?sslmode=require',
      'EQUALS=a=b=c',
      'UNICODE="héllo 🌍"',
      'JSON_VALUE={"a":1,"b":[true,null]}',
      'BACKTICK=`literal`',
      'NUMBER=42',
      'BOOL=true',
      'PATHLIKE=/usr/local/bin:/usr/bin',
      'DOLLAR=price $5',
      'TAB_ESCAPE="a\\tb"',
      'LAST_ONE=last',
      'UNDERSCORE_KEY_9=nine',
    ];
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const parsed = dotenv.parse(fs.readFileSync(file));
    expect(Object.keys(parsed)).toHaveLength(20);

    const first = await ok(['vars', 'import', file, '--path', PLACE, '--secret'], { token });
    expect(first.stderr).toContain(`Imported 20 variables from ${file}: 20 created, 0 updated`);
    const resolution = JSON.parse(await resolved(tree)) as { variables: { key: string; value: string; type: string }[] };
    for (const [key, value] of Object.entries(parsed)) {
      expect(resolution.variables.find((v) => v.key === key), key).toMatchObject({ value, type: 'secret' });
    }

    fs.appendFileSync(file, 'NEW_ONE=1\nNEW_TWO=2\nPLAIN_ONE=changed\n');
    const second = await ok(['vars', 'import', file, '--path', PLACE, '--secret'], { token });
    expect(second.stderr).toContain('22 variables');
    // A key that already holds its value and type is left alone (no new version, no event).
    expect(second.stderr).toContain('2 created, 1 updated, 19 unchanged');
    const after = JSON.parse(await resolved(tree)) as { variables: { key: string; value: string }[] };
    expect(after.variables.find((v) => v.key === 'PLAIN_ONE')!.value).toBe('changed');
  });

  it('vars import checks every key before sending any: invalid ones are listed with their lines (exit 6), nothing is imported', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    const file = fresh('bad.env');
    fs.writeFileSync(file, 'GOOD_ONE=1\n# a comment\nGOOD_TWO=2\n\nbad.key=3\nNEVER_REACHED=4\nlower=5\n');
    const result = await coffer(['vars', 'import', file, '--path', PLACE], { token });
    expect(result.code).toBe(6);
    expect(result.stderr).toContain(`${file}: 2 of 5 variables cannot be stored; nothing was imported`);
    expect(result.stderr).toContain('"bad.key" (line 5): the key must match');
    expect(result.stderr).toContain('"lower" (line 7): the key must match');
    expect(result.stderr).toContain('e.g. BAD_KEY');
    const keys = (JSON.parse((await ok(['vars', 'ls', '--path', PLACE, '--json'], { token })).stdout) as { key: string }[]).map((v) => v.key);
    expect(keys).toEqual([]);
  });

  it('vars import sends batches of 1,000, each one transaction: a refused key stops it naming its line and what earlier batches wrote', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    const file = fresh('big.env');
    const keys = Array.from({ length: 2500 }, (_, i) => `KEY_${String(i).padStart(4, '0')}`);
    fs.writeFileSync(file, keys.map((key) => `${key}=value-${key}\n`).join(''));
    // KEY_1500 (line 1501, in the second batch) is immutable with another value: the server refuses that batch.
    await server.expect(201, 'POST', `${serviceUrl(tree.org)}/variables`, { token, payload: { key: 'KEY_1500', value: 'kept', immutable: true } });
    const result = await coffer(['vars', 'import', file, '--path', PLACE], { token });
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('KEY_1500 (line 1501): ');
    expect(result.stderr).toContain('immutable');
    expect(result.stderr).toContain('Imported 1000 of 2500 in the batches before its own, of which nothing was written (1000 created, 0 updated, 0 unchanged)');
    const listed = async () => {
      const all: string[] = [];
      let cursor = '';
      do {
        const page = (await server.expect(200, 'GET', `${serviceUrl(tree.org)}/variables?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token })).body as { items: { key: string }[]; next_cursor: string | null };
        all.push(...page.items.map((item) => item.key));
        cursor = page.next_cursor ?? '';
      } while (cursor);
      return all;
    };
    expect((await listed()).length).toBe(1001);

    // Without the refusal the rerun writes the rest, leaves the first batch alone, and audits each change once.
    fs.writeFileSync(file, keys.map((key) => `${key}=value-${key}\n`).join('').replace('KEY_1500=value-KEY_1500', 'KEY_1500=kept'));
    const rerun = await ok(['vars', 'import', file, '--path', PLACE], { token });
    expect(rerun.stderr).toContain(`Imported 2500 variables from ${file}: 1499 created, 0 updated, 1001 unchanged`);
    expect((await listed()).length).toBe(2500);
    const events = await server.db
      .selectFrom('audit_events')
      .innerJoin('organizations', 'organizations.id', 'audit_events.organization_id')
      .select(['event_type', (eb) => eb.fn.countAll<string>().as('count')])
      .where('organizations.slug', '=', tree.org)
      .where('target_type', '=', 'variable')
      .groupBy('event_type')
      .execute();
    expect(Object.fromEntries(events.map((row) => [row.event_type, Number(row.count)]))).toEqual({ CREATE: 2500 });
  });

  it('tokens create prints the cfr_ token once on stdout; tokens ls never shows it', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    const created = await ok(['tokens', 'create', 'deploy-bot', '--preset', 'ci'], { token });
    const minted = created.stdout.trimEnd();
    expect(created.stdout).toBe(`${minted}\n`);
    expect(minted).toMatch(TOKEN_FORMAT);
    expect(created.stderr).toContain('shown once');
    expect(created.stderr).not.toContain(minted);
    expect((await server.request('GET', `/orgs/${tree.org}/projects`, { token: minted })).status).toBe(200);

    const ls = await ok(['tokens', 'ls'], { token });
    expect(ls.stdout).toMatch(/^deploy-bot\s/m);
    const lsJson = await ok(['tokens', 'ls', '--json'], { token });
    expect((JSON.parse(lsJson.stdout) as { name: string }[]).map((t) => t.name)).toEqual(['deploy-bot']);
    for (const output of [ls.stdout, ls.stderr, lsJson.stdout, lsJson.stderr]) {
      expect(output).not.toContain(minted);
      expect(output).not.toContain(minted.slice(4));
    }

    const neither = await coffer(['tokens', 'create', 'x'], { token });
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('--preset');
  });

  it('--org is required (exit 2, naming --org) when the principal belongs to two organizations, optional with one', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    await ok(['projects', 'ls'], { token });
    const second = server.slug('org');
    expect((await ok(['orgs', 'create', second], { token })).stderr).toContain(`Created organization ${second}`);
    for (const args of [['projects', 'ls'], ['vars', 'ls'], ['run', '--path', PLACE, '--', ...node('0')], ['export', '--path', PLACE], ['audit', 'ls']]) {
      const result = await coffer(args, { token });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('--org');
    }
    const chosen = await ok(['projects', 'ls', '--org', tree.org, '--json'], { token });
    expect((JSON.parse(chosen.stdout) as { slug: string }[]).map((p) => p.slug)).toEqual(['shop']);
    const byEnv = await ok(['projects', 'ls', '--json'], { token, env: { COFFER_ORG: second } });
    expect(JSON.parse(byEnv.stdout)).toEqual([]);
  });
});
