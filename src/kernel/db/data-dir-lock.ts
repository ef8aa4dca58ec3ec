import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/**
 * An exclusive lock on the embedded database's directory. PGlite does not lock it: two
 * processes on one directory both start and one's committed rows are silently lost.
 *
 * The lock is an OS-level lock on `coffer.lock` (an open-file-description lock on Linux,
 * flock on macOS, LockFileEx on Windows), which the kernel releases when its holder dies,
 * however it dies: a restarted container whose server is PID 1 again, or a kill -9, never
 * leaves a lock behind. The file itself stays, and says who holds it (for the refusal
 * message) and since when the directory holds Coffer data (evidence that an empty pgdata
 * is a loss, not a new installation). Where the file system cannot lock (some network
 * file systems), Coffer falls back to probing the recorded holder and refuses what it
 * cannot prove dead.
 */
export interface DataDirLock {
  /** When this directory was first seen holding a Coffer database; undefined for a new one. */
  readonly dataSince: string | undefined;
  /** Records that the directory now holds a Coffer database (kept across releases). */
  recordData(): void;
  release(): void;
}

/** The OS lock primitives; substituted in tests to exercise the fallback. */
export interface OsLock {
  tryLock(fd: number): boolean;
  unlock(fd: number): void;
}

export const LOCK_FILE = 'coffer.lock';

interface Holder {
  pid: number;
  hostname: string;
  started_at: string;
  /** The holder's start time in clock ticks since boot (Linux), so a reused pid is not taken for it. */
  start_ticks?: number;
}

interface LockRecord {
  holder: Holder | null;
  data_since?: string;
  /** Written by a Coffer that only recorded its pid (no OS lock). */
  legacy?: boolean;
}

export class DataDirLockedError extends Error {
  constructor(dir: string, holder: Holder | null, certain: boolean) {
    const who = holder ? `process ${holder.pid} on ${holder.hostname} (started ${holder.started_at})` : 'another process';
    super(
      certain || !holder
        ? `The data directory ${dir} is in use by ${who}. Stop that process, or point this one at another ` +
            `directory with COFFER_DATA_DIR, or at PostgreSQL with DATABASE_URL.`
        : `The data directory ${dir} was locked by ${who}, which this host cannot check (its file system ` +
            `offers no OS lock). If no Coffer server on ${holder.hostname} or elsewhere uses this directory any ` +
            `more, remove ${path.join(dir, LOCK_FILE)} and start again.`,
    );
    this.name = 'DataDirLockedError';
  }
}

/** Directories this process holds (the fallback cannot tell its own lock from a dead predecessor's). */
const heldHere = new Set<string>();

/** Takes the lock on `dir` (created 0700 if missing), or throws DataDirLockedError naming the holder. */
export function lockDataDir(dir: string, options: { osLock?: OsLock | null } = {}): DataDirLock {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, LOCK_FILE);
  const key = fs.realpathSync(dir);
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  let osLock = options.osLock === undefined ? nativeLock() : options.osLock;
  try {
    if (osLock) {
      try {
        if (!osLock.tryLock(fd)) throw new DataDirLockedError(dir, readRecord(fd).holder, true);
      } catch (error) {
        if (!isUnsupported(error)) throw error;
        osLock = null;
      }
    }
    const record = readRecord(fd);
    // Without an OS lock the record decides. With one, a record in the earlier format (no OS
    // lock) from a live process is a server of an earlier version still running: as before.
    const probeRecord = !osLock || record.legacy === true;
    if (heldHere.has(key) || (probeRecord && record.holder && !provablyGone(record.holder))) {
      throw new DataDirLockedError(dir, heldHere.has(key) ? me() : record.holder, heldHere.has(key) || record.holder?.hostname === os.hostname());
    }
    heldHere.add(key);
    let dataSince = record.data_since;
    writeRecord(fd, { holder: me(), data_since: dataSince });
    let released = false;
    return {
      get dataSince() {
        return dataSince;
      },
      recordData() {
        if (dataSince !== undefined || released) return;
        dataSince = new Date().toISOString();
        writeRecord(fd, { holder: me(), data_since: dataSince });
      },
      release() {
        if (released) return;
        released = true;
        heldHere.delete(key);
        try {
          writeRecord(fd, { holder: null, data_since: dataSince });
        } finally {
          osLock?.unlock(fd);
          fs.closeSync(fd);
        }
      },
    };
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

let loaded: OsLock | null | undefined;

/** fs-native-extensions ships prebuilt binaries; a platform without one gets the fallback. */
function nativeLock(): OsLock | null {
  if (loaded === undefined) {
    try {
      const native = createRequire(import.meta.url)('fs-native-extensions') as { tryLock(fd: number): boolean; unlock(fd: number): void };
      loaded = { tryLock: (fd) => native.tryLock(fd), unlock: (fd) => native.unlock(fd) };
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

function isUnsupported(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOLCK' || code === 'EOPNOTSUPP' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EINVAL';
}

function me(): Holder {
  const ticks = startTicks(process.pid);
  return {
    pid: process.pid,
    hostname: os.hostname(),
    started_at: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    ...(ticks === undefined ? {} : { start_ticks: ticks }),
  };
}

function readRecord(fd: number): LockRecord {
  try {
    const text = fs.readFileSync(fd, 'utf8');
    const parsed = JSON.parse(text) as Partial<LockRecord> & Partial<Holder>;
    const holder = (parsed.holder ?? (typeof parsed.pid === 'number' ? parsed : null)) as Partial<Holder> | null;
    return {
      holder:
        holder && typeof holder.pid === 'number' && typeof holder.hostname === 'string'
          ? { pid: holder.pid, hostname: holder.hostname, started_at: String(holder.started_at), start_ticks: holder.start_ticks }
          : null,
      ...(typeof parsed.data_since === 'string' ? { data_since: parsed.data_since } : {}),
      ...(parsed.holder === undefined && typeof parsed.pid === 'number' ? { legacy: true } : {}),
    };
  } catch {
    // Empty (just created) or unreadable: no holder on record, no history.
    return { holder: null };
  }
}

function writeRecord(fd: number, record: LockRecord): void {
  const text = Buffer.from(`${JSON.stringify(record)}\n`);
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, text, 0, text.length, 0);
  fs.fsyncSync(fd);
}

/** Fallback only: is the recorded holder certainly not running any more? */
function provablyGone(holder: Holder): boolean {
  // Another host's (or container's) process ids mean nothing here.
  if (holder.hostname !== os.hostname()) return false;
  // Our own pid, in a process that does not hold the lock: a predecessor (PID 1 in a restarted container).
  if (holder.pid === process.pid) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  // Alive, but perhaps a later process that got the same pid.
  const ticks = startTicks(holder.pid);
  return holder.start_ticks !== undefined && ticks !== undefined && ticks !== holder.start_ticks;
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot (Linux only). */
function startTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const value = Number(fields[19]);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
