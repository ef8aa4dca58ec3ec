import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { psqlReachable, url, fresh, start, coffer, ok, waitFor, PLACE, envUrl, mint, define, setup, ci, resolved, HOSTILE, node, printEnv } from '../../test/cli.js';

describe('coffer run: values reach the command exactly', () => {
  it('passes values with hostile characters set through the API byte for byte', async () => {
    const tree = await setup();
    for (const [key, value] of Object.entries(HOSTILE)) await define(tree, { key, type: key === 'QUOTES' ? 'secret' : 'plain', value });
    const result = await coffer(['run', '--path', PLACE, '--', ...printEnv(Object.keys(HOSTILE))], ci(tree));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(HOSTILE);
  });

  it('passes values set with coffer vars set (arguments, no shell) byte for byte', async () => {
    const tree = await setup();
    const assignments = Object.entries(HOSTILE).map(([key, value]) => `${key}=${value}`);
    await ok(['vars', 'set', '--path', PLACE, ...assignments], { token: tree.owner.token });
    await ok(['vars', 'set', '--path', PLACE, '--secret', 'SECRET_HOSTILE=' + HOSTILE.NEWLINES + HOSTILE.QUOTES], { token: tree.owner.token });
    const keys = [...Object.keys(HOSTILE), 'SECRET_HOSTILE'];
    const result = await ok(['run', '--path', PLACE, '--', ...printEnv(keys)], ci(tree));
    expect(JSON.parse(result.stdout)).toEqual({ ...HOSTILE, SECRET_HOSTILE: HOSTILE.NEWLINES + HOSTILE.QUOTES });
  });

  it('expands ${REFERENCES} and turns $${ into a literal ${, as resolution does', async () => {
    const tree = await setup();
    await define(tree, { key: 'HOST', type: 'plain', value: 'db.internal' });
    await define(tree, { key: 'URL', type: 'plain', value: 'postgres://${HOST}/x' });
    await define(tree, { key: 'TEMPLATE', type: 'plain', value: 'cost: $${PRICE}' });
    const result = await ok(['run', '--path', PLACE, '--', ...printEnv(['URL', 'TEMPLATE'])], ci(tree));
    expect(JSON.parse(result.stdout)).toEqual({ URL: 'postgres://db.internal/x', TEMPLATE: 'cost: ${PRICE}' });
  });

  it('passes the command\'s own arguments untouched (options after -- belong to the command)', async () => {
    const tree = await setup();
    const args = ['--path', 'not-coffers', '-o', 'x', '--help', '$HOME', 'a b', ''];
    const result = await ok(['run', '--path', PLACE, '--', process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', '--', ...args], ci(tree));
    expect(JSON.parse(result.stdout)).toEqual(args);
  });

  it('inherits the parent environment by default and starts from nothing but the resolution with --no-inherit', async () => {
    const tree = await setup();
    await define(tree, { key: 'APP_MODE', type: 'plain', value: 'production' });
    await define(tree, { key: 'API_SECRET', type: 'secret', value: 'canary_secret_0123456789' });
    const env = { PARENT_MARKER: 'from-the-shell' };
    const keys = ['PARENT_MARKER', 'APP_MODE', 'API_SECRET', 'COFFER_URL'];

    const inherited = await ok(['run', '--path', PLACE, '--', ...printEnv(keys)], ci(tree, env));
    expect(JSON.parse(inherited.stdout)).toEqual({ PARENT_MARKER: 'from-the-shell', APP_MODE: 'production', API_SECRET: 'canary_secret_0123456789', COFFER_URL: url });

    const isolated = await ok(['run', '--path', PLACE, '--no-inherit', '--', ...node('process.stdout.write(JSON.stringify(process.env))')], ci(tree, env));
    const expected = Object.fromEntries((JSON.parse(await resolved(tree)) as { variables: { key: string; value: string }[] }).variables.map((v) => [v.key, v.value]));
    // Exactly the resolved variables: no PATH, HOME, COFFER_TOKEN or marker from the parent.
    expect(JSON.parse(isolated.stdout)).toEqual(expected);
    expect(expected).toMatchObject({ APP_MODE: 'production', API_SECRET: 'canary_secret_0123456789', COFFER_APPLICATION_BACKEND_URL: 'https://backend.internal' });
  });

  it('lets a resolved variable override the inherited one of the same name', async () => {
    const tree = await setup();
    await define(tree, { key: 'LOG_LEVEL', type: 'plain', value: 'warn' });
    const result = await ok(['run', '--path', PLACE, '--', ...printEnv(['LOG_LEVEL'])], ci(tree, { LOG_LEVEL: 'debug' }));
    expect(JSON.parse(result.stdout)).toEqual({ LOG_LEVEL: 'warn' });
  });

  it('resolves an environment path (project/env) as well as a service path', async () => {
    const tree = await setup();
    await define(tree, { key: 'ENV_ONLY', type: 'plain', value: 'yes' }, envUrl(tree.org));
    const result = await ok(['run', '--path', 'shop/production', '--', ...printEnv(['ENV_ONLY', 'COFFER_APPLICATION_BACKEND_URL'])], ci(tree));
    // An environment's resolution carries the built-ins of its services too.
    expect(JSON.parse(result.stdout)).toEqual({ ENV_ONLY: 'yes', COFFER_APPLICATION_BACKEND_URL: 'https://backend.internal' });
  });
});

describe('coffer run: file variables', () => {
  const CONTENT = '-----BEGIN CERTIFICATE-----\nMIIB éü 🌍\n  indented "quoted" $HOME `x`\n-----END CERTIFICATE-----\n';

  async function withCertificate() {
    const tree = await setup();
    await define(tree, { key: 'TLS_CERT', type: 'file', value: CONTENT, mount_path: '/etc/tls/server.pem' });
    return tree;
  }

  /** Prints what the command sees of TLS_CERT: path, content, modes. */
  const inspect = `
    const fs = require('fs'), path = require('path'), os = require('os');
    const file = process.env.TLS_CERT;
    process.stdout.write(JSON.stringify({
      file, tmp: os.tmpdir(), content: fs.readFileSync(file, 'utf8'),
      fileMode: fs.statSync(file).mode & 0o777, dirMode: fs.statSync(path.dirname(file)).mode & 0o777,
      privateDirMode: fs.statSync(path.dirname(path.dirname(file))).mode & 0o777,
    }));`;

  it('delivers the content in a 0600 file named after the mount path, in a 0700 directory under the temp dir, removed afterwards', async () => {
    const tree = await withCertificate();
    const result = await ok(['run', '--path', PLACE, '--', ...node(inspect)], ci(tree));
    const seen = JSON.parse(result.stdout) as { file: string; tmp: string; content: string; fileMode: number; dirMode: number; privateDirMode: number };
    expect(seen.content).toBe(CONTENT);
    expect(path.basename(seen.file)).toBe('server.pem');
    expect(seen.file.startsWith(result.tmpDir + path.sep)).toBe(true);
    expect(seen.fileMode).toBe(0o600);
    expect(seen.dirMode).toBe(0o700);
    expect(seen.privateDirMode).toBe(0o700);
    expect(fs.existsSync(seen.file)).toBe(false);
    expect(fs.readdirSync(result.tmpDir)).toEqual([]);
  });

  it('removes the files when the command fails, and exits with its code', async () => {
    const tree = await withCertificate();
    const result = await coffer(['run', '--path', PLACE, '--', ...node('process.stdout.write(process.env.TLS_CERT); process.exit(3)')], ci(tree));
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/server\.pem$/);
    expect(fs.existsSync(result.stdout)).toBe(false);
    expect(fs.readdirSync(result.tmpDir)).toEqual([]);
  });

  it('removes the files when the command is not found, and exits 127', async () => {
    const tree = await withCertificate();
    const result = await coffer(['run', '--path', PLACE, '--', 'coffer-no-such-command-xyz', '--flag'], ci(tree));
    expect(result.code).toBe(127);
    expect(result.stderr).toContain('coffer-no-such-command-xyz');
    expect(result.stderr).toContain('command not found');
    expect(fs.readdirSync(result.tmpDir)).toEqual([]);
  });

  it('removes the files when the command kills itself with SIGKILL, and exits 137', async () => {
    const tree = await withCertificate();
    const result = await coffer(['run', '--path', PLACE, '--', ...node("process.stdout.write(process.env.TLS_CERT); process.kill(process.pid, 'SIGKILL')")], ci(tree));
    expect(result.code).toBe(137);
    expect(fs.existsSync(result.stdout)).toBe(false);
    expect(fs.readdirSync(result.tmpDir)).toEqual([]);
  });

  /** A command that traps SIGTERM and SIGINT: it writes which one to MARKER and exits 42. */
  const trap = `
    const fs = require('fs');
    for (const signal of ['SIGTERM', 'SIGINT']) {
      process.on(signal, () => { fs.appendFileSync(process.env.MARKER, signal + '\\n'); process.exit(42); });
    }
    fs.writeFileSync(process.env.READY + '.tmp', process.env.TLS_CERT);
    fs.renameSync(process.env.READY + '.tmp', process.env.READY);
    setInterval(() => {}, 1000);`;

  for (const [signal, how] of [
    ['SIGTERM', 'coffer'],
    ['SIGINT', 'coffer'],
    ['SIGINT', 'group'],
  ] as const) {
    const title =
      how === 'coffer'
        ? `forwards ${signal} sent to coffer; the command's exit code (42) is coffer's and the files are removed`
        : 'handles Ctrl-C at a terminal (SIGINT to the whole process group): exit 42, files removed';
    it(title, async () => {
      const tree = await withCertificate();
      const marker = fresh('marker');
      const ready = fresh('ready');
      const running = start(['run', '--path', PLACE, '--', ...node(trap)], {
        ...ci(tree, { MARKER: marker, READY: ready }),
        detached: how === 'group',
      });
      const { child, tmpDir, done } = running;
      await waitFor(ready, running);
      const file = fs.readFileSync(ready, 'utf8');
      expect(fs.readFileSync(file, 'utf8')).toBe(CONTENT);
      if (how === 'group') process.kill(-child.pid!, signal);
      else child.kill(signal);
      const result = await done;
      expect(result.code).toBe(42);
      expect(fs.readFileSync(marker, 'utf8').split('\n').filter(Boolean)[0]).toBe(signal);
      expect(fs.existsSync(file)).toBe(false);
      expect(fs.readdirSync(tmpDir)).toEqual([]);
    });
  }

  it('exits 128+n when the command is killed by a signal coffer forwards and it does not trap', async () => {
    const tree = await withCertificate();
    const ready = fresh('ready');
    const running = start(['run', '--path', PLACE, '--', ...node(`require('fs').writeFileSync(process.env.READY, 'x'); setInterval(() => {}, 1000)`)], ci(tree, { READY: ready }));
    const { child, tmpDir, done } = running;
    await waitFor(ready, running);
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(143);
    expect(fs.readdirSync(tmpDir)).toEqual([]);
  });

  it('writes a file variable set with coffer vars set --file K=@path --mount-path', async () => {
    const tree = await setup();
    const source = fresh('key.pem');
    fs.writeFileSync(source, CONTENT);
    await ok(['vars', 'set', '--path', PLACE, '--file', 'TLS_CERT=@' + source, '--mount-path', '/x/y.pem'], { token: tree.owner.token });
    const resolution = JSON.parse(await resolved(tree)) as { variables: { key: string; type: string; value: string; mount_path?: string }[] };
    expect(resolution.variables.find((v) => v.key === 'TLS_CERT')).toMatchObject({ type: 'file', value: CONTENT, mount_path: '/x/y.pem' });
    const result = await ok(['run', '--path', PLACE, '--', ...node(inspect)], ci(tree));
    const seen = JSON.parse(result.stdout) as { file: string; content: string };
    expect(path.basename(seen.file)).toBe('y.pem');
    expect(seen.content).toBe(CONTENT);
    expect(fs.readdirSync(result.tmpDir)).toEqual([]);
  });
});

describe('coffer run: pg_service entries', () => {
  async function withService() {
    const tree = await setup();
    await define(tree, {
      type: 'pg_service',
      pg_service: { service: 'svc', host: '127.0.0.1', port: 5432, dbname: 'test', user: 'postgres', sslmode: 'disable' },
    });
    return tree;
  }

  it.skipIf(!psqlReachable && process.env.CI !== 'true')('lets psql service=svc connect through PGSERVICEFILE, and removes the file afterwards', async () => {
    const tree = await withService();
    const result = await coffer(['run', '--path', PLACE, '--', 'psql', 'service=svc', '-Atc', 'select current_database()'], ci(tree, { PGCONNECT_TIMEOUT: '5' }));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('test\n');
    expect(fs.readdirSync(result.tmpDir)).toEqual([]);
  });

  it('sets PGSERVICEFILE to a 0600 pg_service.conf holding the entry, removed afterwards', async () => {
    const tree = await withService();
    const script = `const fs = require('fs'); const f = process.env.PGSERVICEFILE;
      process.stdout.write(JSON.stringify({ f, text: fs.readFileSync(f, 'utf8'), mode: fs.statSync(f).mode & 0o777 }))`;
    const result = await ok(['run', '--path', PLACE, '--', ...node(script)], ci(tree));
    const seen = JSON.parse(result.stdout) as { f: string; text: string; mode: number };
    expect(seen.f.startsWith(result.tmpDir + path.sep)).toBe(true);
    expect(seen.mode).toBe(0o600);
    expect(seen.text).toContain('[svc]');
    expect(seen.text).toMatch(/^dbname=test$/m);
    expect(seen.text).toBe(await resolved(tree, 'pg_service'));
    expect(fs.existsSync(seen.f)).toBe(false);
    expect(fs.readdirSync(result.tmpDir)).toEqual([]);
  });
});

describe('coffer run: exit codes', () => {
  it('exits with the command\'s code: 0, 3, 42', async () => {
    const tree = await setup();
    for (const code of [0, 3, 42]) {
      const result = await coffer(['run', '--path', PLACE, '--', ...node(`process.exit(${code})`)], ci(tree));
      expect(result.code).toBe(code);
    }
  });

  it('refuses a missing --path with a usage error naming --path', async () => {
    const tree = await setup();
    const result = await coffer(['run', '--', ...node('0')], ci(tree));
    // Commander's own exit code for a usage error is 1, not the documented 2 (see the report).
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--path');
    expect(result.stderr).toContain('--help');
  });

  // Was an inconsistency (fixed): `coffer --help` documents "2 usage", but the errors commander itself detects
  // (a missing required option, an unknown option or command) exit 1, commander's default: main.ts
  // does not call program.exitOverride()/configure the exit code. Scripts cannot tell
  // "you called me wrong" from "it failed". Expected: 2.
  it('usage errors found by the argument parser exit 2, as coffer --help documents', async () => {
    for (const args of [['run', '--', 'true'], ['vars', 'ls', '--bogus'], ['frobnicate']]) {
      expect((await coffer(args)).code, args.join(' ')).toBe(2);
    }
  });

  it('refuses a project-only --path with exit 2 (usage)', async () => {
    const tree = await setup();
    const result = await coffer(['run', '--path', 'shop', '--', ...node('0')], ci(tree));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--path must name an environment');
  });

  it('exits 5 for an unknown path', async () => {
    const tree = await setup();
    for (const place of ['shop/staging/backend', 'nope/production', 'shop/production/frontend']) {
      const result = await coffer(['run', '--path', place, '--', ...node('0')], ci(tree));
      expect(result.code).toBe(5);
      expect(result.stderr).toMatch(/^coffer: .*not found/im);
    }
  });

  it('exits 4 naming secret:decrypt for a token without it (read-only preset)', async () => {
    const tree = await setup();
    const readOnly = await mint(tree, 'read-only');
    const result = await coffer(['run', '--path', PLACE, '--', ...node('0')], { token: readOnly, env: { COFFER_ORG: tree.org } });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('secret:decrypt');
  });

  it('exits 7 naming the URL when the server is not listening', async () => {
    const result = await coffer(['run', '--path', PLACE, '--', ...node('0')], {
      token: 'cfr_' + 'a'.repeat(46),
      env: { COFFER_URL: 'http://127.0.0.1:1' },
    });
    expect(result.code).toBe(7);
    expect(result.stderr).toContain('http://127.0.0.1:1');
    expect(result.stderr).toContain('COFFER_URL');
  });

  it('exits 3 with no credentials at all, saying to run coffer login or set COFFER_TOKEN', async () => {
    const result = await coffer(['run', '--path', PLACE, '--', ...node('0')]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('coffer login');
    expect(result.stderr).toContain('COFFER_TOKEN');
  });

  it('exits 3 for a token the server does not know, saying how to sign in', async () => {
    const result = await coffer(['run', '--path', PLACE, '--', ...node('0')], { token: 'cfr_' + 'b'.repeat(46) });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('coffer login');
  });

  it('exits 127 when the command does not exist', async () => {
    const tree = await setup();
    const result = await coffer(['run', '--path', PLACE, '--', '/nonexistent/bin/tool'], ci(tree));
    expect(result.code).toBe(127);
    expect(result.stderr).toContain('command not found');
  });
});
