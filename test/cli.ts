import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { TestServer, callListening } from './harness.js';
import { buildDist, ROOT } from './processes.js';

/**
 * The `coffer` CLI as a person runs it (issue #7, SPEC §8): `node dist/cli/main.js …` spawned
 * with a fresh environment against the real application listening on a real port (PGlite).
 * `coffer run` delivers values exactly, materializes file and pg_service entries and removes
 * them however the command ends; exit codes; login/logout; management; export; audit; help;
 * and no secret on coffer's own output.
 */

export const MAIN = path.join(ROOT, 'dist/cli/main.js');
export const PASSWORD = 'correct horse battery staple'; // the harness's users' password
export const PSQL = '/usr/bin/psql';
/** psql and the local PostgreSQL server are both here (on CI they are): the pg_service tests need them. */
export const psqlReachable =
  fs.existsSync(PSQL) &&
  spawnSync(PSQL, ['-h', '127.0.0.1', '-p', '5432', '-U', 'postgres', '-d', 'test', '-Atc', 'select 1'], {
    env: { PATH: process.env.PATH ?? '', PGCONNECT_TIMEOUT: '3' },
    encoding: 'utf8',
    timeout: 10_000,
  }).stdout?.trim() === '1';
export const TOKEN_FORMAT = /^cfr_[0-9A-Za-z]{46}$/;

export let server: TestServer;
export let url: string;
export const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-cli-test-'));

beforeAll(async () => {
  buildDist();
  server = await TestServer.start();
  url = await server.app.listen({ port: 0, host: '127.0.0.1' });
}, 180_000);

afterAll(async () => {
  await server?.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Running the CLI

export interface CliOptions {
  /** COFFER_TOKEN; none by default (never inherited from the test process). */
  token?: string;
  /** Extra variables, or `undefined` to remove one of the defaults (e.g. COFFER_URL). */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed (it is always closed: no prompt can hang). */
  input?: string;
  /** COFFER_CONFIG_DIR; a fresh, not yet existing directory by default. */
  configDir?: string;
  /** Start coffer in its own process group (to signal the group, as a terminal's Ctrl-C does). */
  detached?: boolean;
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** coffer's TMPDIR (os.tmpdir() for it): empty before the call, so anything left there is a leftover. */
  tmpDir: string;
}

export let counter = 0;
export const fresh = (label: string) => path.join(scratch, `${label}-${++counter}`);

export function start(args: string[], options: CliOptions = {}): { child: ChildProcess; tmpDir: string; done: Promise<Result> } {
  const tmpDir = fresh('tmp');
  fs.mkdirSync(tmpDir);
  const home = fresh('home');
  fs.mkdirSync(home);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    TMPDIR: tmpDir,
    COFFER_URL: url,
    COFFER_CONFIG_DIR: options.configDir ?? fresh('config'),
    ...(options.token ? { COFFER_TOKEN: options.token } : {}),
  };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: options.detached ?? false });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin!.on('error', () => {}); // a command that never reads stdin may close it first
  child.stdin!.end(options.input ?? '');
  const done = new Promise<Result>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`coffer ${args.join(' ')} did not finish in 60 s\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 60_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, tmpDir });
    });
  });
  return { child, tmpDir, done };
}

/** `coffer …args` to completion. */
export const coffer = (args: string[], options: CliOptions = {}) => start(args, options).done;

/** Fails with coffer's output unless it exited 0. */
export async function ok(args: string[], options: CliOptions = {}): Promise<Result> {
  const result = await coffer(args, options);
  if (result.code !== 0) throw new Error(`coffer ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}

/** `node -e SCRIPT` as coffer run's command; `process.execPath` so it is found even without PATH (--no-inherit). */
export const node = (script: string) => [process.execPath, '-e', script];

/** A child that prints the named variables as JSON (absent ones as null). */
export const printEnv = (keys: string[]) =>
  node(`process.stdout.write(JSON.stringify(Object.fromEntries(${JSON.stringify(keys)}.map((k) => [k, process.env[k] ?? null]))))`);

export const mode = (file: string) => fs.statSync(file).mode & 0o777;

/** Until `file` exists; fails at once with coffer's output if coffer exits first. */
export async function waitFor(file: string, process: { child: ChildProcess; done: Promise<Result> }, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (process.child.exitCode !== null || process.child.signalCode !== null) {
      const result = await process.done;
      throw new Error(`coffer exited ${result.code} before ${file} appeared\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    }
    if (Date.now() > deadline) throw new Error(`${file} did not appear`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// ---------------------------------------------------------------------------------------------
// Seeding through the API

export type Tree = Awaited<ReturnType<TestServer['tree']>>;
export const PLACE = 'shop/production/backend';
export const serviceUrl = (org: string) => `/orgs/${org}/projects/shop/environments/production/services/backend`;
export const envUrl = (org: string) => `/orgs/${org}/projects/shop/environments/production`;

export async function mint(tree: Tree, preset: 'ci' | 'read-only' = 'ci'): Promise<string> {
  const created = await server.expect(201, 'POST', `/orgs/${tree.org}/tokens`, { token: tree.owner.token, payload: { name: server.slug('t'), preset } });
  return created.body.token as string;
}

export async function define(tree: Tree, body: Record<string, unknown>, at = serviceUrl(tree.org)): Promise<void> {
  await server.expect(201, 'POST', `${at}/variables`, { token: tree.owner.token, payload: body });
}

/** A tree with a ci token. */
export async function setup(): Promise<Tree & { ci: string }> {
  const tree = await server.tree();
  return { ...tree, ci: await mint(tree) };
}

/**
 * Coffer run as CI does, with the tree's ci token. COFFER_ORG is set because an API token cannot
 * list organizations (GET /orgs is for signed-in users), so without it every command fails with 4:
 * see 'API tokens without --org' below.
 */
export const ci = (tree: { ci: string; org: string }, env: Record<string, string> = {}): CliOptions => ({ token: tree.ci, env: { COFFER_ORG: tree.org, ...env } });

export async function resolved(tree: Tree, format = 'json', at = serviceUrl(tree.org)): Promise<string> {
  return (await server.expect(200, 'GET', `${at}/resolve?format=${format}`, { token: tree.owner.token })).raw.body;
}

/** What the server shows of a secret (SPEC §3), computed independently. */
export const masked = (value: string) => {
  const chars = [...value];
  return chars.length < 24 ? '********' : `${chars.slice(0, 3).join('')}********${chars.slice(-3).join('')}`;
};

export const HOSTILE = {
  NEWLINES: 'line one\nline two\r\nline three\n',
  QUOTES: `it's "double" and 'single' and \\"escaped\\" \\'`,
  DOLLARS: '$HOME $(id -u) $1 $$ $? ${lower} $',
  BACKTICKS: '`id` and `echo pwned`',
  HASHES: '# not a comment #x',
  UNICODE: 'héllo wörld 🌍 中文 \u202e rtl \u00a0nbsp',
  SPACES: '   leading and trailing   ',
  EQUALS: '=a=b==c=',
  TABS: '\tcolumn\tcolumn\t',
  BACKSLASHES: 'C:\\path\\to\\n not a newline \\',
  SEMICOLONS: 'a; rm -rf / && echo | cat > /dev/null',
  EMPTYISH: ' ',
} satisfies Record<string, string>;

// ---------------------------------------------------------------------------------------------

/** An owner of a new organization on a server listening at `address` (one started by the test itself). */
export interface Place {
  url: string;
  token: string;
  userId: string;
  org: string;
}

export async function signUp(address: string, org: string): Promise<Place> {
  const credentials = { email: `${org}@example.test`, password: PASSWORD };
  await callListening(address, 'POST', '/auth/signup', { ...credentials, name: org });
  const login = await callListening(address, 'POST', '/auth/login', credentials);
  const token = login.token as string;
  await callListening(address, 'POST', '/orgs', { slug: org }, token);
  return { url: address, token, userId: (login.user as { id: string }).id, org };
}
