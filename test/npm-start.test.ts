import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist, freePort, ROOT } from './processes.js';

/**
 * `npm start` under a process manager: the SIGTERM goes to npm, which passes it to the shell
 * running the script. Before, that shell died and left the server running without a parent,
 * holding the port and the data directory's lock; the script now execs node, so the server
 * itself gets the signal and shuts down.
 */
let scratch: string;
const pids: number[] = [];

beforeAll(() => {
  buildDist();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-npm-start-'));
}, 180_000);
afterAll(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  fs.rmSync(scratch, { recursive: true, force: true });
});

const answers = (url: string) => fetch(url).then((response) => response.ok, () => false);

describe('npm start', () => {
  it('stops the server when npm is sent SIGTERM', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/readyz`;
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? scratch, HOST: '127.0.0.1', PORT: String(port), COFFER_DATA_DIR: path.join(scratch, 'data'), LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    pids.push(npm.pid!);
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 120_000;
    while (!(await answers(url))) {
      expect(npm.exitCode, 'npm start exited before the server was ready').toBeNull();
      expect(Date.now() < deadline, 'the server was not ready within 120 s').toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    npm.kill('SIGTERM');
    await exited;
    // The server is gone too: nothing answers on its port, and its data directory is free again.
    const gone = Date.now() + 15_000;
    while ((await answers(url)) && Date.now() < gone) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await answers(url)).toBe(false);
  }, 180_000);
});
