import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * An exclusive lock on the embedded database's directory. PGlite does not lock it: two
 * processes on one directory both start and one's committed rows are silently lost.
 */
export interface DataDirLock {
  release(): void;
}

interface LockOwner {
  pid: number;
  hostname: string;
  started_at: string;
}

export class DataDirLockedError extends Error {
  constructor(dir: string, owner: LockOwner) {
    super(
      `The data directory ${dir} is in use by process ${owner.pid} on ${owner.hostname} ` +
        `(started ${owner.started_at}). Stop that process, or point this one at another ` +
        `directory with COFFER_DATA_DIR, or at PostgreSQL with DATABASE_URL.`,
    );
    this.name = 'DataDirLockedError';
  }
}

export function lockDataDir(dir: string): DataDirLock {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'coffer.lock');
  const me: LockOwner = { pid: process.pid, hostname: os.hostname(), started_at: new Date().toISOString() };

  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          // Only remove the lock if it is still ours.
          if (readOwner(file)?.pid === me.pid) fs.rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readOwner(file);
      if (owner && isAlive(owner)) throw new DataDirLockedError(dir, owner);
      // Stale: its process is gone (crash, kill -9) or the file is unreadable garbage.
      fs.rmSync(file, { force: true });
    }
  }
  throw new Error(`Could not lock ${dir}: another process keeps recreating ${file}`);
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.hostname === 'string') {
      return { pid: parsed.pid, hostname: parsed.hostname, started_at: String(parsed.started_at) };
    }
  } catch {
    // unreadable: treated as stale
  }
  return undefined;
}

function isAlive(owner: LockOwner): boolean {
  // A lock written on another host (shared volume) cannot be probed: assume it is held.
  if (owner.hostname !== os.hostname()) return true;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
