import fs from 'node:fs';
import path from 'node:path';
import type { DataDirLock } from './data-dir-lock.js';

/**
 * What Coffer checks in the embedded database's files before PGlite opens them. PGlite runs
 * initdb over any directory without PG_VERSION, so a damaged or emptied database would be
 * silently replaced by a new, empty one; and its own errors for damaged files ("Aborted().
 * Build with -sASSERTIONS…", "ErrnoError { errno: 54 }") say nothing an operator can act on.
 */

/** Where every damage message sends the operator. */
export const RESTORE_HINT = 'Restore it from a backup (see "Backup and restore" in the README); Coffer changed nothing.';

/** The embedded database is missing or damaged; the message says what and how to restore. */
export class EmbeddedDatabaseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddedDatabaseError';
  }
}

export const PGDATA = 'pgdata';
const ROOT_KEY_FILES = ['root.key', 'root.key.new'];
const WAL_SEGMENT = /^[0-9A-F]{24}$/;
const PG_CONTROL_SIZE = 8192;

/** Signs that `dataDir` has held a Coffer database, as phrases for a message; empty for a new directory. */
export function earlierDataEvidence(dataDir: string, lock: Pick<DataDirLock, 'dataSince'>): string[] {
  const evidence = ROOT_KEY_FILES.filter((name) => fs.existsSync(path.join(dataDir, name))).map(
    (name) => `${path.join(dataDir, name)} exists`,
  );
  if (lock.dataSince) evidence.push(`${path.join(dataDir, 'coffer.lock')} records a Coffer database here since ${lock.dataSince}`);
  return evidence;
}

/**
 * Refuses (EmbeddedDatabaseError) what PGlite must not open: a damaged database, or an
 * empty place where `evidence` says a database was. 'new' means PGlite may create one.
 */
export function inspectPgdata(pgdata: string, evidence: string[]): 'new' | 'existing' {
  let entries: string[];
  try {
    entries = fs.readdirSync(pgdata);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') {
      throw new EmbeddedDatabaseError(`${pgdata} is a file, not the embedded database's directory: the database is damaged or was replaced. ${RESTORE_HINT}`);
    }
    if (code !== 'ENOENT') throw error;
    entries = [];
  }

  if (entries.length === 0) {
    if (evidence.length === 0) return 'new';
    throw new EmbeddedDatabaseError(
      `${pgdata} is ${fs.existsSync(pgdata) ? 'empty' : 'missing'}, but ${evidence.join(' and ')}: the database this ` +
        `directory held is gone, and Coffer will not start an empty one in its place. ${RESTORE_HINT} ` +
        'If this directory never held data (you placed root.key in it yourself), move root.key away and set ' +
        'COFFER_ROOT_KEY to its contents instead.',
    );
  }
  if (!entries.includes('PG_VERSION')) {
    throw new EmbeddedDatabaseError(
      `${pgdata} holds files but no PG_VERSION: the embedded database is damaged (partly deleted, or its first creation ` +
        `was interrupted, in which case remove it), and Coffer will not create a new one over it. ${RESTORE_HINT}`,
    );
  }

  const control = path.join(pgdata, 'global', 'pg_control');
  const controlProblem = pgControlProblem(control);
  if (controlProblem) {
    throw new EmbeddedDatabaseError(`${control}, the database's control file, is ${controlProblem}: the embedded database is damaged. ${RESTORE_HINT}`);
  }
  const wal = path.join(pgdata, 'pg_wal');
  const segments = fs.existsSync(wal) && fs.statSync(wal).isDirectory() ? fs.readdirSync(wal).filter((name) => WAL_SEGMENT.test(name)) : [];
  if (segments.length === 0) {
    throw new EmbeddedDatabaseError(
      `${wal} holds no write-ahead log file: the database's log was deleted, with its latest changes. ${RESTORE_HINT}`,
    );
  }
  return 'existing';
}

function pgControlProblem(file: string): string | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `unreadable (${(error as Error).message})`;
  }
  if (bytes.length !== PG_CONTROL_SIZE) return `${bytes.length} bytes long instead of ${PG_CONTROL_SIZE}`;
  // Its first field is the system identifier, never zero in a real cluster.
  if (bytes.subarray(0, 16).every((byte) => byte === 0)) return 'zeroed';
  return undefined;
}

/** PGlite failed to open files that passed the checks above: say so in one sentence. */
export function unopenable(pgdata: string, error: unknown): EmbeddedDatabaseError {
  const detail = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  return new EmbeddedDatabaseError(
    `The embedded database in ${pgdata} could not be opened (PGlite: ${detail.slice(0, 200)}): its files are damaged. ${RESTORE_HINT}`,
    { cause: error },
  );
}

/** A database opened fine but is not Coffer's (no root key check) where a Coffer database was. */
export function notTheDatabase(pgdata: string, evidence: string[]): EmbeddedDatabaseError {
  return new EmbeddedDatabaseError(
    `${pgdata} holds a database without Coffer's root key check, but ${evidence.join(' and ')}: it is not the ` +
      `database this directory held. ${RESTORE_HINT}`,
  );
}
