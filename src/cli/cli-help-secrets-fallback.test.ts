import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { server, type Result, fresh, coffer, ok, mode, PLACE, mint, define, setup, ci, node, printEnv } from '../../test/cli.js';

describe('help', () => {
  /** The names in the "Commands:" section of a help text (without `help`). */
  const commandsOf = (help: string): string[] => {
    const section = help.split(/^Commands:$/m)[1];
    if (!section) return [];
    const names: string[] = [];
    for (const line of section.split('\n').slice(1)) {
      if (line.trim() === '') break; // the end of the section
      const match = /^ {2}(\S+)/.exec(line); // not a wrapped description line
      if (match && match[1] !== 'help') names.push(match[1]!);
    }
    return names;
  };

  it('coffer --help lists the commands, the environment and the exit codes', async () => {
    const help = await ok(['--help']);
    const commands = commandsOf(help.stdout);
    expect(commands).toEqual(expect.arrayContaining(['login', 'logout', 'orgs', 'projects', 'envs', 'services', 'vars', 'run', 'export', 'tokens', 'audit']));
    expect(help.stdout).toContain('COFFER_TOKEN');
    expect(help.stdout).toMatch(/Exit codes: 0 ok, 1 failure, 2 usage, 3 not signed in, 4 forbidden, 5 not found, 6 rejected input, 7 server unreachable/);
  });

  it('every leaf command and subcommand has --help with Examples:, exiting 0', async () => {
    const top = commandsOf((await ok(['--help'])).stdout);
    const leaves: string[][] = [];
    await Promise.all(
      top.map(async (command) => {
        const help = await ok([command, '--help']);
        const subs = commandsOf(help.stdout);
        if (subs.length === 0) leaves.push([command]);
        for (const sub of subs) leaves.push([command, sub]);
      }),
    );
    expect(leaves.length).toBeGreaterThan(25);
    const missing: string[] = [];
    await Promise.all(
      leaves.map(async (leaf) => {
        const help = await coffer([...leaf, '--help']);
        expect(help.code, leaf.join(' ')).toBe(0);
        if (!help.stdout.includes('Examples:')) missing.push(leaf.join(' '));
      }),
    );
    expect(missing).toEqual([]);
  }, 120_000); // one coffer process per leaf: about 60 since issue #11's commands, on a shared machine

  // Gap: the command groups (orgs, projects, envs, services, members, roles, tokens, vars,
  // audit, admin) have no Examples: in their own --help (main.ts, resources.ts, vars.ts,
  // audit.ts create them without addHelpText), so `coffer vars --help` shows no example.
  it('every command group has Examples: in its --help too', async () => {
    const top = commandsOf((await ok(['--help'])).stdout);
    const missing: string[] = [];
    await Promise.all(
      top.map(async (command) => {
        const help = await ok([command, '--help']);
        if (!help.stdout.includes('Examples:')) missing.push(command);
      }),
    );
    expect(missing).toEqual([]);
  });
});

describe('secrets are never printed by coffer itself', () => {
  it('a canary secret appears only in export without -o and in the command\'s own output, never on stderr', async () => {
    const tree = await setup();
    const token = tree.owner.token;
    const canary = `CANARY_${randomBytes(16).toString('hex')}`;
    await ok(['vars', 'set', '--path', PLACE, '--secret', `CANARY=${canary}`], { token });
    await ok(['vars', 'set', '--path', PLACE, '--secret', `CANARY=${canary}x`], { token });
    await ok(['vars', 'rollback', 'CANARY', '1', '--path', PLACE], { token });
    await define(tree, { key: 'CANARY_FILE', type: 'file', value: canary, mount_path: '/c/canary.txt' });
    const outputs: Record<string, Result> = {};
    const run = await ok(['run', '--path', PLACE, '--', ...printEnv(['CANARY'])], ci(tree));
    expect(JSON.parse(run.stdout)).toEqual({ CANARY: canary });
    outputs.run = { ...run, stdout: '' }; // the command's own output is its business
    outputs.runFails = await coffer(['run', '--path', PLACE, '--', 'no-such-command-canary'], ci(tree));
    outputs.runNoInherit = { ...(await ok(['run', '--path', PLACE, '--no-inherit', '--', ...node('0')], ci(tree))) };
    for (const args of [['vars', 'ls'], ['vars', 'ls', '--json'], ['vars', 'get', 'CANARY'], ['vars', 'get', 'CANARY', '--json'], ['vars', 'get', 'CANARY_FILE'], ['vars', 'history', 'CANARY'], ['vars', 'history', 'CANARY', '--json']]) {
      outputs[args.join(' ')] = await ok([...args, '--path', PLACE], { token });
    }
    const file = fresh('canary.env');
    outputs.exportToFile = await ok(['export', '--path', PLACE, '-o', file], ci(tree));
    expect(fs.readFileSync(file, 'utf8')).toContain(canary);
    outputs.auditLs = await ok(['audit', 'ls', '--limit', '200'], { token });
    outputs.auditLsJson = await ok(['audit', 'ls', '--json', '--limit', '200'], { token });
    outputs.auditExport = await ok(['audit', 'export'], { token });
    outputs.auditExportCsv = await ok(['audit', 'export', '--format', 'csv'], { token });
    const rejected = await coffer(['vars', 'set', '--path', PLACE, '--secret', `bad-key=${canary}`], { token });
    expect(rejected.code).toBe(6);
    outputs.rejected = rejected;
    for (const [name, result] of Object.entries(outputs)) {
      expect(result.stdout, `${name} stdout`).not.toContain(canary);
      expect(result.stderr, `${name} stderr`).not.toContain(canary);
    }
    const exported = await ok(['export', '--path', PLACE, '--format', 'env-json'], ci(tree));
    expect(JSON.parse(exported.stdout)).toMatchObject({ CANARY: canary });
    expect(exported.stderr).not.toContain(canary);
    // Some twenty CLI processes one after another: on a slow or busy machine more than the default 30 s.
  }, 120_000);

  // Was a product bug (fixed): vars.ts's "Expected KEY=VALUE" error echoes the argument up to its first '=',
  // i.e. the whole argument when it has none, so `coffer vars set --secret "$TOKEN"` (the key
  // forgotten) prints the secret to stderr (and CI logs). Expected: the error names the
  // position, or a prefix only, never the value.
  it('a secret passed without KEY= is not echoed in the usage error', async () => {
    const tree = await server.tree();
    const canary = `canary_secret_${randomBytes(16).toString('hex')}`;
    const result = await coffer(['vars', 'set', '--path', PLACE, '--secret', canary], { token: tree.owner.token });
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain(canary);
  });
});

describe('coffer run --fallback', () => {
  it('keeps an encrypted copy of each resolution and uses it, only when asked, while the server is unreachable', async () => {
    const tree = await setup();
    const canary = `fallback-canary-${Math.random().toString(36).slice(2)}`;
    await define(tree, { key: 'FROM_FALLBACK', type: 'secret', value: canary });
    const file = fresh('fallback');
    const args = (extra: string[] = []) => ['run', '--path', PLACE, ...extra, '--', ...printEnv(['FROM_FALLBACK'])];

    const first = await ok(args(['--fallback', file]), ci(tree));
    expect(JSON.parse(first.stdout)).toEqual({ FROM_FALLBACK: canary });
    expect(mode(file)).toBe(0o600);
    expect(fs.readFileSync(file).includes(Buffer.from(canary))).toBe(false);

    const offline = { token: tree.ci, env: { COFFER_ORG: tree.org, COFFER_URL: 'http://127.0.0.1:1' } };
    const used = await coffer(args(['--fallback', file]), offline);
    expect(used.code).toBe(0);
    expect(JSON.parse(used.stdout)).toEqual({ FROM_FALLBACK: canary });
    expect(used.stderr).toContain('using the last resolution saved in');
    expect(used.stderr).not.toContain(canary);

    // Not asked for: unreachable is an error; another token cannot open the copy.
    expect((await coffer(args(), offline)).code).toBe(7);
    const other = await mint(tree);
    const refused = await coffer(args(['--fallback', file]), { ...offline, token: other });
    expect(refused.code).toBe(7);
    expect(refused.stderr).toContain('does not open with this token');
  });

  it('gives up on a server that accepts connections and never answers, after --timeout or COFFER_TIMEOUT, and falls back saying why', async () => {
    const tree = await setup();
    await define(tree, { key: 'FROM_FALLBACK', type: 'plain', value: 'kept-from-last-run' });
    const file = fresh('fallback');
    const args = (extra: string[] = []) => ['run', '--path', PLACE, ...extra, '--', ...printEnv(['FROM_FALLBACK'])];
    await ok(args(['--fallback', file]), ci(tree));

    // A real TCP server that accepts every connection and never sends a byte.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const hung = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    try {
      const used = await coffer(args(['--fallback', file]), ci(tree, { COFFER_URL: hung, COFFER_TIMEOUT: '1' }));
      expect(used.code).toBe(0);
      expect(JSON.parse(used.stdout)).toEqual({ FROM_FALLBACK: 'kept-from-last-run' });
      expect(used.stderr).toContain(`The Coffer server at ${hung} did not answer within 1 s`);
      expect(used.stderr).toContain(`using the last resolution saved in ${file}`);

      // Without --fallback: exit 7 (unreachable) with the same reason; the global option wins over the variable.
      const failed = await coffer(['--timeout', '1', ...args()], ci(tree, { COFFER_URL: hung, COFFER_TIMEOUT: '3600' }));
      expect(failed.code).toBe(7);
      expect(failed.stderr).toContain('did not answer within 1 s');
      expect(sockets.size).toBeGreaterThanOrEqual(2);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('refuses a timeout that is not a positive number of seconds (exit 2, naming it)', async () => {
    const tree = await setup();
    const result = await coffer(['run', '--path', PLACE, '--', 'true'], ci(tree, { COFFER_TIMEOUT: 'soon' }));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('COFFER_TIMEOUT must be a number of seconds');
    expect((await coffer(['--connect-timeout', '0', 'run', '--path', PLACE, '--', 'true'], ci(tree))).stderr).toContain('--connect-timeout must be');
  });
});
