import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { createPGlite } from '../src/kernel/db/connect.js';
import { bundleIsCurrent } from '../src/load-server.js';

/**
 * The built server (`node dist/main.js`) as a separate process, for what only a real process
 * shows: exiting on signals, surviving kill -9.
 */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SERVER_MAIN = path.join(ROOT, 'dist/main.js');

/**
 * Compiles src/ into dist/ (as the CLI tests do, through test/cli.ts), so the spawned server is this tree's. Test
 * files run in parallel: one build at a time (a directory as the lock), so no server starts
 * from a file another build is rewriting; the later builds find dist up to date and emit nothing.
 */
export function buildDist(): void {
  const lock = path.join(ROOT, 'node_modules/.cache/coffer-test/build.lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A build killed midway leaves its lock: no build takes ten minutes.
      const held = fs.statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 600_000) fs.rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`another build held ${lock} for 5 minutes`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
    // `node dist/main.js` runs the bundle when it is current: the tests run what production runs.
    if (!bundleIsCurrent(path.join(ROOT, 'dist/bundle/server.js'), path.join(ROOT, 'dist/.tsbuildinfo'))) {
      execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: ROOT, stdio: 'pipe' });
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Resolves with the exit code or signal when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it wrote to stderr so far (stdout is never read unless asked). */
  stderr(): string;
}

/**
 * Starts `node dist/main.js` with `env` (PORT and HOST chosen here) and waits for /readyz.
 * stdout is a pipe nobody reads unless `readStdout`; stderr is collected unless `unreadStderr`.
 */
export async function startServerProcess(
  env: Record<string, string>,
  options: { readStdout?: boolean; unreadStderr?: boolean; port?: number } = {},
): Promise<ServerProcess> {
  // A given port lets a restarted server answer where its clients already connect.
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [SERVER_MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  if (!options.unreadStderr) child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  if (options.readStdout) child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server exited before it was ready: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server was not ready after 90 s: ${stderr}`);
    }
    const ready = await fetch(`${url}/readyz`).then((response) => response.ok, () => false);
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, url, exited, stderr: () => stderr };
}

/** The process's exit, or 'still running' once `ms` have passed. */
export function exitWithin(server: ServerProcess, ms: number) {
  return Promise.race([server.exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms))]);
}

/**
 * Fills `dataDir/pgdata` from the migrated PGlite template the global setup prepared (PGlite
 * project only), so a server starting there skips initdb; it is a new installation still.
 */
export async function embeddedDirFromTemplate(dataDir: string): Promise<void> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const loader = await createPGlite({ dataDir: path.join(dataDir, 'pgdata'), loadDataDir: new Blob([fs.readFileSync(inject('pgliteTemplate'))]) });
  await loader.waitReady;
  await loader.close();
}
