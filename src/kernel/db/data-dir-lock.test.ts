import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useTempDirs } from '../../../test/unit.js';
import { openEmbedded } from './connect.js';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from './data-dir-lock.js';

const tempDir = useTempDirs('coffer-lock-');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

const record = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'));
const writeHolder = (dir: string, holder: object) => fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ holder }));

/** Another process holding the OS lock on `dir`'s lock file as a Coffer server does, until killed. */
async function holdInChild(dir: string): Promise<ChildProcess> {
  const addon = createRequire(import.meta.url).resolve('fs-native-extensions');
  const script = `
    const fs = require('fs');
    const fd = fs.openSync(${JSON.stringify(path.join(dir, LOCK_FILE))}, 'a+');
    if (!require(${JSON.stringify(addon)}).tryLock(fd)) process.exit(3);
    fs.writeFileSync(${JSON.stringify(path.join(dir, LOCK_FILE))}, JSON.stringify({ holder: { pid: process.pid, hostname: 'elsewhere', started_at: 'then' } }));
    process.stdout.write('locked');
    setInterval(() => {}, 60000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the holder exited ${code}`)));
  });
  return child;
}

describe('data directory lock', () => {
  it('refuses a second lock and names the process that holds the first', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by process ${process.pid}`));
    lock.release();
    lockDataDir(dir).release();
  });

  it('refuses while another live process holds the OS lock, whatever host its record names, and takes over once it is killed', async () => {
    const dir = tempDir();
    const holder = await holdInChild(dir);
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by process ${holder.pid} on elsewhere`));
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    const lock = lockDataDir(dir);
    expect(record(dir).holder.pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock recorded under its own process id by a predecessor (PID 1 in a restarted container)', () => {
    const dir = tempDir();
    writeHolder(dir, { pid: process.pid, hostname: os.hostname(), started_at: '2026-01-01T00:00:00Z' });
    lockDataDir(dir).release();
    // The same without an OS lock (a file system that cannot lock): the record alone decides.
    writeHolder(dir, { pid: process.pid, hostname: os.hostname(), started_at: '2026-01-01T00:00:00Z' });
    lockDataDir(dir, { osLock: null }).release();
  });

  it('refuses a lock an earlier version (pid only, no OS lock) records for a live process, and takes over its own pid', () => {
    const dir = tempDir();
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    children.push(holder);
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: holder.pid, hostname: os.hostname(), started_at: '2026-01-01T00:00:00Z' }));
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by process ${holder.pid}`));
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, hostname: os.hostname(), started_at: '2026-01-01T00:00:00Z' }));
    lockDataDir(dir).release();
  });

  it('keeps the lock file after release, with no holder and the history of data', () => {
    const dir = tempDir();
    const first = lockDataDir(dir);
    expect(first.dataSince).toBeUndefined();
    first.recordData();
    first.release();
    expect(record(dir).holder).toBeNull();
    const second = lockDataDir(dir);
    expect(second.dataSince).toBe(record(dir).data_since);
    second.release();
  });

  it('treats an unreadable lock file as free', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, LOCK_FILE), 'garbage');
    lockDataDir(dir).release();
    fs.writeFileSync(path.join(dir, LOCK_FILE), 'garbage');
    lockDataDir(dir, { osLock: null }).release();
  });

  describe('without an OS lock', () => {
    it('takes over a lock whose process is gone', async () => {
      const dir = tempDir();
      const child = spawn(process.execPath, ['-e', '0']);
      await new Promise((resolve) => child.on('exit', resolve));
      writeHolder(dir, { pid: child.pid, hostname: os.hostname(), started_at: '2026-01-01T00:00:00Z' });
      const lock = lockDataDir(dir, { osLock: null });
      expect(record(dir).holder.pid).toBe(process.pid);
      lock.release();
    });

    it('refuses a second lock in the same process', () => {
      const dir = tempDir();
      const lock = lockDataDir(dir, { osLock: null });
      expect(() => lockDataDir(dir, { osLock: null })).toThrow(DataDirLockedError);
      lock.release();
    });

    it('refuses a lock from another host and says which file to remove once no server uses the directory', () => {
      const dir = tempDir();
      writeHolder(dir, { pid: 4242, hostname: 'other-host', started_at: '2026-01-01T00:00:00Z' });
      expect(() => lockDataDir(dir, { osLock: null })).toThrow(
        `If no Coffer server on other-host or elsewhere uses this directory any more, remove ${path.join(dir, LOCK_FILE)} and start again`,
      );
    });
  });

  it('keeps a second embedded database from opening a directory another live process holds', async () => {
    const dir = tempDir();
    const holder = await holdInChild(dir);
    const error = await openEmbedded(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect((error as Error).message).toContain(`process ${holder.pid}`);
    expect(fs.existsSync(path.join(dir, 'pgdata'))).toBe(false);
  });
});
