import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openEmbedded } from './connect.js';
import { DataDirLockedError, lockDataDir } from './data-dir-lock.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-lock-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('data directory lock', () => {
  it('refuses a second lock and names the process that holds the first', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by process ${process.pid}`));
    lock.release();
    lockDataDir(dir).release();
  });

  it('takes over a stale lock whose process is gone', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = child.pid!;
    await new Promise((resolve) => child.on('exit', resolve));
    fs.writeFileSync(
      path.join(dir, 'coffer.lock'),
      JSON.stringify({ pid: deadPid, hostname: os.hostname(), started_at: '2026-01-01T00:00:00Z' }),
    );
    const lock = lockDataDir(dir);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'coffer.lock'), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(fs.existsSync(path.join(dir, 'coffer.lock'))).toBe(false);
  });

  it('treats an unreadable lock file as stale', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'coffer.lock'), 'garbage');
    lockDataDir(dir).release();
  });

  it('keeps a second embedded database from opening a directory another live process holds', async () => {
    const dir = tempDir();
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      fs.writeFileSync(
        path.join(dir, 'coffer.lock'),
        JSON.stringify({ pid: holder.pid, hostname: os.hostname(), started_at: new Date().toISOString() }),
      );
      const error = await openEmbedded(dir).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DataDirLockedError);
      expect((error as Error).message).toContain(`process ${holder.pid}`);
      expect(fs.existsSync(path.join(dir, 'pgdata'))).toBe(false);
    } finally {
      holder.kill();
    }
  });
});
