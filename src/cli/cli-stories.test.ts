import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { PASSWORD, psqlReachable, server, fresh, coffer, type CliOptions, type Result } from '../../test/cli.js';

/**
 * Issue #11's five stories of a newcomer's first hour, each acted out with `coffer` commands
 * only (no API call, no curl): every step is the built CLI against a real server. Each story
 * counts the commands it took; the counts are printed at the end.
 */
const counts: Record<string, number> = {};

afterAll(() => {
  console.log(`commands per story: ${JSON.stringify(counts)}`);
});

function story(name: string) {
  counts[name] = 0;
  const step = async (args: string[], options: CliOptions = {}): Promise<Result> => {
    counts[name]! += 1;
    return coffer(args, options);
  };
  return {
    /** A command that must succeed. */
    async ok(args: string[], options: CliOptions = {}): Promise<Result> {
      const result = await step(args, options);
      if (result.code !== 0) throw new Error(`coffer ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
      return result;
    },
    /** A command whose failure the story shows. */
    fails: step,
    /** A new person signing up: their config directory is their "terminal". */
    async person(label: string): Promise<{ email: string; as: CliOptions }> {
      const email = server.email(label);
      const as = { configDir: fresh('cfg') };
      await this.ok(['signup', '--email', email, '--name', label], { ...as, input: `${PASSWORD}\n` });
      return { email, as };
    },
  };
}

const printer = (keys: string[]) => [process.execPath, '-e', `process.stdout.write(JSON.stringify(Object.fromEntries(${JSON.stringify(keys)}.map((k) => [k, process.env[k] ?? null]))))`];

describe('issue #11 stories, with coffer commands only', () => {
  it('1. an organization with layered variables: the most specific scope wins in coffer run', async () => {
    const s = story('1 layered variables');
    const { as } = await s.person('owner');
    const org = server.slug('acme');
    await s.ok(['orgs', 'create', org], as);
    await s.ok(['projects', 'create', 'shop'], as);
    await s.ok(['envs', 'create', 'production', '--project', 'shop', '--type', 'PRODUCTION'], as);
    await s.ok(['services', 'create', 'backend', '--project', 'shop', '--env', 'production', '--kind', 'application'], as);
    await s.ok(['vars', 'set', 'LOG_LEVEL=info', 'COMPANY=Acme'], as);
    await s.ok(['vars', 'set', '--path', 'shop', 'LOG_LEVEL=debug', 'DB_HOST=db.shop.internal'], as);
    await s.ok(['vars', 'set', '--path', 'shop/production', 'LOG_LEVEL=warn'], as);
    await s.ok(['vars', 'set', '--path', 'shop/production', '--secret', 'DB_PASSWORD=s3cret-layered'], as);
    await s.ok(['vars', 'set', '--path', 'shop/production/backend', 'PORT=8080'], as);
    const run = await s.ok(['run', '--path', 'shop/production/backend', '--', ...printer(['LOG_LEVEL', 'COMPANY', 'DB_HOST', 'DB_PASSWORD', 'PORT'])], as);
    expect(JSON.parse(run.stdout)).toEqual({ LOG_LEVEL: 'warn', COMPANY: 'Acme', DB_HOST: 'db.shop.internal', DB_PASSWORD: 's3cret-layered', PORT: '8080' });
    const listed = await s.ok(['vars', 'ls', '--path', 'shop/production'], as);
    expect(listed.stdout).not.toContain('s3cret-layered');
  });

  it('2. invite a viewer, then give them a DEVELOPMENT-only custom role: secrets of development only', async () => {
    const s = story('2 viewer and custom role');
    const owner = await s.person('owner');
    const org = server.slug('acme');
    await s.ok(['orgs', 'create', org], owner.as);
    await s.ok(['projects', 'create', 'shop'], owner.as);
    await s.ok(['envs', 'create', 'dev', '--project', 'shop', '--type', 'DEVELOPMENT'], owner.as);
    await s.ok(['envs', 'create', 'production', '--project', 'shop', '--type', 'PRODUCTION'], owner.as);
    await s.ok(['vars', 'set', '--path', 'shop/dev', '--secret', 'API_KEY=dev-key'], owner.as);
    await s.ok(['vars', 'set', '--path', 'shop/production', '--secret', 'API_KEY=prod-key'], owner.as);
    const link = (await s.ok(['invite', 'placeholder@example.test', '--role', 'VIEWER'], owner.as)).stdout.trim();
    await s.ok(['invitations', 'revoke', 'placeholder@example.test'], owner.as); // a typo, withdrawn
    expect((await s.fails(['accept', link], owner.as)).code).not.toBe(0);

    const bob = await s.person('bob');
    const bobLink = (await s.ok(['invite', bob.email, '--role', 'VIEWER'], owner.as)).stdout.trim();
    await s.ok(['accept', bobLink], bob.as);
    // As a VIEWER, bob sees masked values only.
    expect((await s.fails(['run', '--path', 'shop/dev', '--', ...printer(['API_KEY'])], bob.as)).code).toBe(4);

    const role = JSON.stringify({
      name: 'dev-only',
      description: 'Develops in development; sees nothing else',
      project_permissions: [{ project_id: 'shop', permissions: [{ environment_type: 'DEVELOPMENT', permission: 'MANAGER' }] }],
    });
    await s.ok(['roles', 'create', '--file', '-'], { ...owner.as, input: role });
    await s.ok(['members', 'set-role', bob.email, 'dev-only'], owner.as);
    expect((await s.ok(['members', 'ls'], owner.as)).stdout).toMatch(new RegExp(`^${bob.email.replace(/[.+]/g, '\\$&')}\\s+bob\\s+dev-only\\s+yes`, 'm'));

    const dev = await s.ok(['run', '--path', 'shop/dev', '--', ...printer(['API_KEY'])], bob.as);
    expect(JSON.parse(dev.stdout)).toEqual({ API_KEY: 'dev-key' });
    const production = await s.fails(['export', '--path', 'shop/production'], bob.as);
    expect(production.code).toBe(5); // invisible, not merely forbidden
    expect(production.stdout).not.toContain('prod-key');
    const why = await s.fails(['why', 'secret:decrypt', 'shop/production', '--member', bob.email], owner.as);
    expect(why.code).toBe(4);
    expect(why.stdout).toContain("custom role 'dev-only'");
  });

  it('3. a CI token: export with it, then revoke it and see it refused', async () => {
    const s = story('3 CI token');
    const { as } = await s.person('owner');
    await s.ok(['orgs', 'create', server.slug('acme')], as);
    await s.ok(['projects', 'create', 'shop'], as);
    await s.ok(['envs', 'create', 'production', '--project', 'shop', '--type', 'PRODUCTION'], as);
    await s.ok(['vars', 'set', '--path', 'shop/production', '--secret', 'DEPLOY_KEY=ci-deploy-secret'], as);
    const token = (await s.ok(['tokens', 'create', 'github-actions', '--preset', 'ci', '--path', 'shop/production'], as)).stdout.trim();
    const exported = await s.ok(['export', '--path', 'shop/production', '--format', 'dotenv'], { token });
    expect(exported.stdout).toContain('DEPLOY_KEY=');
    expect(exported.stdout).toContain('ci-deploy-secret');
    expect((await s.fails(['export', '--path', 'shop/staging'], { token })).code).not.toBe(0); // outside its path
    expect((await s.ok(['tokens', 'ls'], as)).stdout).toMatch(/^github-actions\s/m);
    await s.ok(['tokens', 'revoke', 'github-actions'], as);
    const refused = await s.fails(['export', '--path', 'shop/production'], { token });
    expect(refused.code).toBe(3);
    expect(refused.stdout).toBe('');
  });

  it('4. audit: an auditor joins, reads who did what, exports and verifies the log', async () => {
    const s = story('4 audit');
    const owner = await s.person('owner');
    await s.ok(['orgs', 'create', server.slug('acme')], owner.as);
    await s.ok(['projects', 'create', 'shop'], owner.as);
    await s.ok(['envs', 'create', 'production', '--project', 'shop', '--type', 'PRODUCTION'], owner.as);
    await s.ok(['vars', 'set', '--path', 'shop/production', '--secret', 'DB_PASSWORD=audited-secret'], owner.as);
    await s.ok(['export', '--path', 'shop/production'], owner.as);
    const auditor = await s.person('auditor');
    await s.ok(['accept', (await s.ok(['invite', auditor.email, '--role', 'AUDITOR'], owner.as)).stdout.trim()], auditor.as);
    const reads = await s.ok(['audit', 'ls', '--event-type', 'READ_SECRET'], auditor.as);
    expect(reads.stdout).toContain(owner.email);
    const exported = await s.ok(['audit', 'export'], auditor.as);
    const events = exported.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event_type: string });
    expect(events.map((e) => e.event_type)).toEqual(expect.arrayContaining(['CREATE', 'READ_SECRET']));
    expect(exported.stdout).not.toContain('audited-secret');
    await s.ok(['audit', 'verify'], auditor.as);
    expect((await s.fails(['vars', 'set', '--path', 'shop/production', 'X=1'], auditor.as)).code).toBe(4);
  });

  it.skipIf(!psqlReachable && process.env.CI !== 'true')('5. a QFieldCloud pg_service entry, used by psql through coffer run', async () => {
    const s = story('5 pg_service and psql');
    const { as } = await s.person('owner');
    await s.ok(['orgs', 'create', server.slug('qfield')], as);
    await s.ok(['projects', 'create', 'gis'], as);
    await s.ok(['envs', 'create', 'production', '--project', 'gis', '--type', 'PRODUCTION'], as);
    const section = fresh('qfield.conf');
    fs.writeFileSync(section, '[qfield]\nhost=127.0.0.1\nport=5432\ndbname=test\nuser=postgres\nsslmode=disable\n');
    await s.ok(['vars', 'set', '--path', 'gis/production', '--pg-service-file', section], as);
    const psql = await s.ok(['run', '--path', 'gis/production', '--', 'psql', 'service=qfield', '-Atc', 'select current_database()'], { ...as, env: { PGCONNECT_TIMEOUT: '5' } });
    expect(psql.stdout).toBe('test\n');
    // The same entry from keyword=value arguments, for a second service.
    await s.ok(['vars', 'set', '--path', 'gis/production', '--pg-service', 'qfield_ro', 'host=127.0.0.1', 'port=5432', 'dbname=test', 'user=postgres', 'sslmode=disable'], as);
    const second = await s.ok(['run', '--path', 'gis/production', '--', 'psql', 'service=qfield_ro', '-Atc', 'select 41 + 1'], { ...as, env: { PGCONNECT_TIMEOUT: '5' } });
    expect(second.stdout).toBe('42\n');
  });
});
