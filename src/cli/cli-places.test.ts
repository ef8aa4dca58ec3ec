import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAIN, server, url, fresh, coffer, ok, PLACE, setup, ci } from '../../test/cli.js';
import { browserOpener } from './commands/inspect.js';

describe('coffer services create/rm, clusters, envs create --cluster', () => {
  it('creates a service of each kind, lists it, deletes it; an unknown kind lists the allowed ones', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    const at = ['--project', 'shop', '--env', 'production'];
    expect((await ok(['services', 'create', 'db', ...at, '--kind', 'database', '--output', 'host=db.internal', '--output', 'port=5432'], { token })).stderr).toContain(
      'Created database service shop/production/db',
    );
    await ok(['services', 'create', 'worker', ...at, '--kind', 'JOB'], { token });
    const listed = await ok(['services', 'ls', ...at], { token });
    expect(listed.stdout).toMatch(/^db\s+database\s+\{"host":"db.internal","port":"5432"\}$/m);
    expect(listed.stdout).toMatch(/^worker\s+job\b/m);

    const bad = await coffer(['services', 'create', 'x', ...at, '--kind', 'lambda'], { token });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--kind "lambda" is not a service kind: use application, database, job, container');
    expect((await ok(['services', 'create', '--help'])).stdout).toContain('application, database, job, container');
    const noEquals = await coffer(['services', 'create', 'y', ...at, '--kind', 'database', '--output', 'hunter2'], { token });
    expect(noEquals.code).toBe(2);
    expect(noEquals.stderr).not.toContain('hunter2');

    expect((await ok(['services', 'rm', 'worker', ...at], { token })).stderr).toContain('Deleted service shop/production/worker');
    expect((await ok(['services', 'ls', ...at], { token })).stdout).not.toMatch(/^worker/m);
    expect((await coffer(['services', 'rm', 'worker', ...at], { token })).code).toBe(5);
  });

  it('clusters create/ls/rm by name; envs create on a cluster by name; a cluster hosting one is kept', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    await ok(['clusters', 'create', 'eu-west', '--region', 'eu-west-1'], { token });
    expect((await ok(['clusters', 'ls'], { token })).stdout).toMatch(/^eu-west\s+eu-west-1\s+[0-9a-f-]{36}$/m);
    expect((await ok(['envs', 'create', 'dev', '--project', 'shop', '--type', 'development', '--cluster', 'eu-west'], { token })).stderr).toContain(
      'Created DEVELOPMENT environment shop/dev on cluster eu-west',
    );
    const envs = JSON.parse((await ok(['envs', 'ls', '--project', 'shop', '--json'], { token })).stdout) as { slug: string; cluster_id: string | null }[];
    const cluster = JSON.parse((await ok(['clusters', 'ls', '--json'], { token })).stdout)[0] as { id: string };
    expect(envs.find((e) => e.slug === 'dev')!.cluster_id).toBe(cluster.id);
    const busy = await coffer(['clusters', 'rm', 'eu-west'], { token });
    expect(busy.code).toBe(6);
    expect(busy.stderr).toContain('still hosts environments');
    const badType = await coffer(['envs', 'create', 'qa', '--project', 'shop', '--type', 'QA'], { token });
    expect(badType.code).toBe(2);
    expect(badType.stderr).toContain('--type "QA" is not an environment type: use DEVELOPMENT, PREVIEW, STAGING, PRODUCTION');
    const noCluster = await coffer(['envs', 'create', 'qa', '--project', 'shop', '--type', 'STAGING', '--cluster', 'mars'], { token });
    expect(noCluster.code).toBe(5);
    expect(noCluster.stderr).toContain(`Cluster "mars" not found in organization "${tree.org}"`);

    expect((await ok(['clusters', 'edit', 'eu-west', '--region', 'eu-west-3'], { token })).stderr).toContain(`Cluster eu-west of ${tree.org}: region eu-west-3`);
    await ok(['clusters', 'edit', 'eu-west', '--name', 'eu-prod', '--region', ''], { token });
    expect((await ok(['clusters', 'ls'], { token })).stdout).toMatch(/^eu-prod\s+[0-9a-f-]{36}$/m);
    expect((await coffer(['clusters', 'edit', 'eu-prod'], { token })).code).toBe(2);
    await ok(['clusters', 'create', 'spare'], { token });
    expect((await ok(['clusters', 'rm', 'spare'], { token })).stderr).toContain(`Deleted cluster spare of ${tree.org}`);
  });
});

describe('coffer tokens revoke and why', () => {
  it('revokes a token by its name; the token is refused next; an unknown name is named', async () => {
    const tree = await setup();
    const created = await ok(['tokens', 'create', 'deploy-bot', '--preset', 'ci', '--path', 'shop/production'], { token: tree.owner.token });
    const secret = created.stdout.trim();
    await ok(['vars', 'ls', '--path', 'shop/production'], { token: secret, env: { COFFER_ORG: tree.org } });
    expect((await ok(['tokens', 'revoke', 'deploy-bot'], { token: tree.owner.token })).stderr).toMatch(/^Revoked token deploy-bot \([0-9a-f-]{36}\) of /);
    expect((await coffer(['vars', 'ls', '--path', 'shop/production'], { token: secret, env: { COFFER_ORG: tree.org } })).code).toBe(3);
    const again = await coffer(['tokens', 'revoke', 'deploy-bot'], { token: tree.owner.token });
    expect(again.code).toBe(5);
    expect(again.stderr).toContain(`Token "deploy-bot" not found in organization "${tree.org}"`);
  });

  it("prints authz/check's decision and reason for yourself, a member, a token and a cluster; exits 4 when denied", async () => {
    const tree = await setup();
    const token = tree.owner.token;
    const mine = await ok(['why', 'secret:decrypt', PLACE], { token });
    expect(mine.stdout).toBe(`ALLOWED: you may secret:decrypt on ${PLACE}: granted by system role OWNER on PRODUCTION environments of every project\n`);
    const viewer = await server.member(token, tree.org, 'VIEWER');
    const denied = await coffer(['why', 'secret:decrypt', 'shop/production', '--member', viewer.email], { token });
    expect(denied.code).toBe(4);
    expect(denied.stdout).toContain(`DENIED: ${viewer.email} may not secret:decrypt on shop/production: no grant of secret:decrypt`);
    const json = JSON.parse((await coffer(['why', 'secret:read', 'shop/production', '--member', viewer.email, '--json'], { token })).stdout) as { allowed: boolean; user_id: string };
    expect(json).toMatchObject({ allowed: true, user_id: viewer.id });

    await ok(['tokens', 'create', 'reader', '--preset', 'read-only'], { token });
    const tokenDenied = await coffer(['why', 'secret:decrypt', PLACE, '--token', 'reader'], { token });
    expect(tokenDenied.code).toBe(4);
    expect(tokenDenied.stdout).toContain("DENIED: token reader may not secret:decrypt on shop/production/backend: token 'reader' lacks scope secret:decrypt");

    await ok(['clusters', 'create', 'eu-west'], { token });
    expect((await ok(['why', 'cluster:deploy', 'cluster:eu-west'], { token })).stdout).toMatch(/^ALLOWED: you may cluster:deploy on cluster:eu-west: /);
    expect((await ok(['why', 'member:manage'], { token })).stdout).toMatch(new RegExp(`^ALLOWED: you may member:manage on organization ${tree.org}: granted by system role OWNER`));

    // The viewer may not ask about others; nobody is found under a wrong name.
    const notAllowed = await coffer(['why', 'secret:read', 'shop', '--member', tree.owner.email], { token: viewer.token });
    expect(notAllowed.code).toBe(4);
    const unknownAction = await coffer(['why', 'secret:steal', 'shop'], { token });
    expect(unknownAction.code).toBe(6);
    expect(unknownAction.stderr).toContain('secret:steal');
    const nobody = await coffer(['why', 'secret:read', 'shop', '--member', 'ghost@example.test'], { token });
    expect(nobody.stderr).toContain(`Member "ghost@example.test" not found in organization "${tree.org}"`);
    expect((await coffer(['why', 'secret:read', 'shop', '--member', 'a', '--token', 'b'], { token })).code).toBe(2);
  });
});

describe('coffer open', () => {
  it('prints the console URL of the place; opens nothing when stdout is not a terminal; names a missing place', async () => {
    const tree = await server.tree();
    const token = tree.owner.token;
    // A browser that would leave a mark if it were started.
    const bin = fresh('bin');
    fs.mkdirSync(bin);
    const mark = path.join(bin, 'opened');
    fs.writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\necho "$1" > ${mark}\n`, { mode: 0o755 });
    const env = { DISPLAY: ':0', PATH: `${bin}:${process.env.PATH}` };
    expect((await ok(['open', '--path', 'shop/production/backend'], { token, env })).stdout).toBe(`${url}/orgs/${tree.org}/projects/shop/environments/production/services/backend/variables\n`);
    expect((await ok(['open', '--path', 'shop/production'], { token, env })).stdout).toBe(`${url}/orgs/${tree.org}/projects/shop/environments/production\n`);
    expect((await ok(['open', 'variables', '--path', 'shop'], { token, env })).stdout).toBe(`${url}/orgs/${tree.org}/projects/shop/variables\n`);
    expect((await ok(['open', 'audit'], { token, env })).stdout).toBe(`${url}/orgs/${tree.org}/audit\n`);
    expect((await coffer(['open', 'members', '--path', 'shop'], { token, env })).code).toBe(2);
    expect((await ok(['open'], { token, env })).stdout).toBe(`${url}/orgs/${tree.org}\n`);
    expect((await ok(['open', 'members'], { token, env })).stdout).toBe(`${url}/orgs/${tree.org}/members\n`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fs.existsSync(mark)).toBe(false);

    const missing = await coffer(['open', '--path', 'shop/staging'], { token });
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain(`"shop/staging" not found in organization "${tree.org}"`);
    expect((await coffer(['open', 'nowhere'], { token })).code).toBe(2);
  });

  it.skipIf(!fs.existsSync('/usr/bin/script'))('opens the URL with xdg-open when stdout is a terminal in a desktop session', async () => {
    const tree = await server.tree();
    const bin = fresh('bin');
    fs.mkdirSync(bin);
    const mark = path.join(bin, 'opened');
    fs.writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\necho "$1" > ${mark}\n`, { mode: 0o755 });
    // script(1) gives coffer a pseudo-terminal as stdout, as a person's shell does.
    const child = spawn('/usr/bin/script', ['-qec', `${process.execPath} ${MAIN} open --path shop`, '/dev/null'], {
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: fresh('home'), DISPLAY: ':0', COFFER_URL: url, COFFER_TOKEN: tree.owner.token, COFFER_CONFIG_DIR: fresh('cfg') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code, output).toBe(0);
    const expected = `${url}/orgs/${tree.org}/projects/shop`;
    expect(output).toContain(expected);
    const deadline = Date.now() + 5000;
    while (!fs.existsSync(mark) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fs.readFileSync(mark, 'utf8')).toBe(`${expected}\n`);
  });

  it('finds a browser only in a desktop session with xdg-open, on macOS, or through $BROWSER', () => {
    const bin = fresh('bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'xdg-open'), '', { mode: 0o755 });
    expect(browserOpener({ PATH: bin }, 'linux')).toBeUndefined();
    expect(browserOpener({ PATH: bin, DISPLAY: ':0' }, 'linux')).toBe('xdg-open');
    expect(browserOpener({ PATH: '/nonexistent', WAYLAND_DISPLAY: 'wayland-0' }, 'linux')).toBeUndefined();
    expect(browserOpener({}, 'darwin')).toBe('open');
    expect(browserOpener({ BROWSER: 'firefox' }, 'linux')).toBe('firefox');
  });
});

describe('coffer vars set --pg-service and --pg-service-file', () => {
  it('stores a pg_service entry from keyword=value settings, updates it by name, and coffer run delivers it', async () => {
    const tree = await setup();
    const token = tree.owner.token;
    const created = await ok(['vars', 'set', '--path', PLACE, '--pg-service', 'gis', 'host=db.internal', 'port=5433', 'dbname=gis', 'user=qgis', 'password=pg-secret-1', 'sslmode=require', 'connect_timeout=5'], { token });
    expect(created.stderr).toContain('Created pg_service gis (version 1)');
    expect(created.stderr).not.toContain('pg-secret-1');
    const updated = await ok(['vars', 'set', '--path', PLACE, '--pg-service', 'gis', 'host=db2.internal', 'port=5432', 'dbname=gis', 'user=qgis', 'password=pg-secret-2'], { token });
    expect(updated.stderr).toContain('Updated pg_service gis (version 2)');
    const ls = await ok(['vars', 'ls', '--path', PLACE], { token });
    expect(ls.stdout).toMatch(/^gis\s+pg_service\s+\(pg_service\)\s+2\s+false$/m);
    expect(ls.stdout).not.toContain('pg-secret-2');

    const run = await ok(['run', '--path', PLACE, '--', process.execPath, '-e', 'process.stdout.write(require("fs").readFileSync(process.env.PGSERVICEFILE, "utf8"))'], ci(tree));
    expect(run.stdout).toBe('[gis]\nhost=db2.internal\nport=5432\ndbname=gis\nuser=qgis\npassword=pg-secret-2\n');
  });

  it("takes a raw pg_service.conf section from a file or stdin (seed 002's advanced editor), and names what is wrong", async () => {
    const tree = await setup();
    const token = tree.owner.token;
    const file = fresh('gis.conf');
    fs.writeFileSync(file, '# QFieldCloud\n[qfield]\nhost=pg.example.com\nport=5432\ndbname=qfield\nuser=field\npassword=raw-secret\n');
    expect((await ok(['vars', 'set', '--path', PLACE, '--pg-service-file', file], { token })).stderr).toContain('Created pg_service qfield (version 1)');
    expect((await ok(['vars', 'set', '--path', PLACE, '--pg-service-file', '-'], { token, input: '[qfield]\nhost=pg2.example.com\n' })).stderr).toContain('Updated pg_service qfield (version 2)');
    const exported = await ok(['export', '--path', PLACE, '--format', 'pg_service'], ci(tree));
    expect(exported.stdout).toContain('[qfield]\nhost=pg2.example.com\n');

    const missing = await coffer(['vars', 'set', '--path', PLACE, '--pg-service-file', fresh('nope.conf')], { token });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--pg-service-file: cannot read .*nope\.conf-\d+.*there is no such file/);
    const badLine = await coffer(['vars', 'set', '--path', PLACE, '--pg-service-file', '-'], { token, input: '[x]\nhost = a\npassword=line-secret\n' });
    expect(badLine.code).toBe(6);
    expect(badLine.stderr).toContain('line 2');
    expect(badLine.stderr).not.toContain('line-secret');
    const badPort = await coffer(['vars', 'set', '--path', PLACE, '--pg-service', 'x', 'host=a', 'port=http'], { token });
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('port must be a whole number from 1 to 65535');
    const noEquals = await coffer(['vars', 'set', '--path', PLACE, '--pg-service', 'x', 'hunter2'], { token });
    expect(noEquals.code).toBe(2);
    expect(noEquals.stderr).not.toContain('hunter2');
    const unknown = await coffer(['vars', 'set', '--path', PLACE, '--pg-service', 'x', 'host=a', 'colour=blue'], { token });
    expect(unknown.code).toBe(6);
    expect(unknown.stderr).toContain('colour');
    expect((await coffer(['vars', 'set', '--path', PLACE, '--pg-service', 'x'], { token })).code).toBe(2);
  });
});
