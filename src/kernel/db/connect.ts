import { createRequire } from 'node:module';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type pg from 'pg';
import { ROOT_KEY_CHECK } from '../crypto/root-key-check.js';
import { lockDataDir } from './data-dir-lock.js';
import { earlierDataEvidence, inspectPgdata, notTheDatabase, PGDATA, unopenable } from './embedded-files.js';
import { placeTemplate } from './embedded-template.js';
import { PGliteDialect } from './pglite-dialect.js';
import { startPGliteThread, type PGliteLike, type PGliteThread } from './pglite-thread.js';
import { sendPreparedByName } from './prepared.js';
import type { Database } from './schema.js';

export type Backend = 'pglite' | 'postgres';

/** An open database: the Kysely instance every repo uses, and how to close it. */
export interface DatabaseHandle {
  db: Kysely<Database>;
  backend: Backend;
  close(): Promise<void>;
  /** Embedded only: notes in the lock file that the directory now holds Coffer data (see embedded-files.ts). */
  recordData?(): void;
  /** Embedded only: a consistent copy of the data directory (gzipped tar), taken while serving. */
  dump?(): Promise<Blob>;
}

const INT8_OID = 20;

const require = createRequire(import.meta.url);

/** Opens PostgreSQL at `url` (a pool; timestamps in UTC, int8 as number). */
export function openPostgres(url: string, options: { max?: number } = {}): DatabaseHandle {
  // Loaded here, not at start: the embedded database never needs the driver.
  const { Pool, types } = require('pg') as typeof pg;
  const pool = new Pool({
    connectionString: url,
    max: options.max ?? 10,
    options: '-c TimeZone=UTC',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? Number : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
    },
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  sendPreparedByName(pool);
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
  });
  return { db, backend: 'postgres', close: () => db.destroy() };
}

/**
 * PostgreSQL's buffer cache inside PGlite. PGlite's default, 128 MB, is all touched at start
 * (the WASM heap holds it): it was a third of an idle server's RSS and a quarter of the CPU an
 * open took. The data the hot paths read is small and cached above the database, and a page
 * not in this cache is one read from the OS page cache away. Durability does not depend on it:
 * a commit writes its WAL before it returns, whatever the cache's size.
 */
const PGLITE_SHARED_BUFFERS = '16MB';

/** Coffer's parameters for PGlite's PostgreSQL, after PGlite's own (single-user mode, fsync on, …). */
export const PGLITE_START_PARAMS = ['-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`];

/**
 * A PGlite instance in this thread, with Coffer's type parsers: on disk, in memory, or from a
 * dumped data directory (tests and tools; the server's database has a thread of its own, see
 * openEmbedded). PGlite's module loads here, on first use: the server never loads it itself.
 */
export async function createPGlite(options: { dataDir?: string; loadDataDir?: Blob } = {}): Promise<PGlite> {
  const { PGlite } = await import('@electric-sql/pglite');
  // One options object: PGlite ignores the second argument when the first is undefined.
  return new PGlite({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    startParams: [...PGlite.defaultStartParams, ...PGLITE_START_PARAMS],
    parsers: { [INT8_OID]: (value: string) => Number(value) },
  });
}

/** Wraps an already-open PGlite, in this thread or its own (tests load one from a template). */
export async function usePGlite(pglite: PGliteLike, onClose?: () => void): Promise<DatabaseHandle> {
  await pglite.waitReady;
  return pgliteHandle(pglite, onClose);
}

/** A handle on a PGlite that may still be starting: its first statement waits for it (see PGliteDriver.init). */
function pgliteHandle(pglite: PGliteLike, onClose?: () => void): DatabaseHandle {
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  let closed: Promise<void> | undefined;
  return {
    db,
    backend: 'pglite',
    close: () =>
      // Once, whoever asks first: a failed open closes it, and so may its opener after.
      (closed ??= (async () => {
        await db.destroy();
        await pglite.close();
        onClose?.();
      })()),
    dump: () =>
      // Holding the dialect's one connection: no transaction is open while the files are copied.
      db.connection().execute(async (connection) => {
        await sql`checkpoint`.execute(connection);
        return pglite.dumpDataDir('gzip');
      }),
  };
}

export interface EmbeddedOptions {
  /** The build's template for a new database (embedded-template.ts) when not the default one: for tests. */
  templateDir?: string;
  /** A thread started earlier for the database (main.ts starts one first thing); else one is started here. */
  thread?: PGliteThread | undefined;
}

/**
 * Opens the embedded database in `dataDir`, holding an exclusive lock on it while open.
 * Damaged or missing data is refused (EmbeddedDatabaseError) before PGlite touches a file.
 * A new database starts as a copy of the build's template when there is a usable one
 * (embedded-template.ts; `templateDir` names another, for tests), else PGlite's initdb.
 */
export async function openEmbedded(dataDir: string, options: EmbeddedOptions = {}): Promise<DatabaseHandle> {
  const { database, opened } = await startEmbedded(dataDir, options);
  await opened;
  return database;
}

/** A database being opened: its handle now, usable at once (statements wait for the open), and the open's outcome. */
export interface OpeningDatabase {
  database: DatabaseHandle;
  /** Rejects when the open fails, having closed the handle (and released the directory). */
  opened: Promise<void>;
}

/**
 * openEmbedded without waiting: PostgreSQL starts on the database's own thread while the
 * caller goes on (the server builds its routes meanwhile, issue #16). The lock, the checks of
 * the files and the template happen before this returns; what PostgreSQL itself says of the
 * files comes with `opened`.
 */
export async function startEmbedded(dataDir: string, options: EmbeddedOptions = {}): Promise<OpeningDatabase> {
  const lock = lockDataDir(dataDir);
  try {
    const evidence = earlierDataEvidence(dataDir, lock);
    const pgdata = path.join(dataDir, PGDATA);
    const state = inspectPgdata(pgdata, evidence);
    if (state === 'new') placeTemplate(pgdata, options.templateDir);
    const pglite = (options.thread ?? startPGliteThread()).open({ dataDir: pgdata, startParams: PGLITE_START_PARAMS });
    // From here the handle releases the directory when it closes, as a failed open does.
    const handle = pgliteHandle(pglite, () => lock.release());
    const opened = (async () => {
      try {
        await pglite.waitReady;
      } catch (error) {
        await handle.close();
        throw state === 'existing' ? unopenable(pgdata, error) : error;
      }
      if (await hasRootKeyCheck(handle.db)) {
        lock.recordData();
      } else if (evidence.length > 0) {
        await handle.close();
        throw notTheDatabase(pgdata, evidence);
      }
    })();
    opened.catch(() => {}); // the caller awaits it when it needs the database; until then a failure waits there
    return { database: { ...handle, recordData: () => lock.recordData() }, opened };
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** Does this database hold Coffer's root key check (see kernel/crypto/root-key-check.ts)? */
export async function hasRootKeyCheck(db: Kysely<Database>): Promise<boolean> {
  const result = await sql<{ present: boolean }>`select to_regclass('coffer_settings') is not null as present`.execute(db);
  if (!result.rows[0]?.present) return false;
  const row = await db.selectFrom('coffer_settings').select('name').where('name', '=', ROOT_KEY_CHECK).executeTakeFirst();
  return row !== undefined;
}

/** `select 1`, for /readyz. */
export async function ping(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}

/** The database the configuration names: PostgreSQL when DATABASE_URL is set, else embedded PGlite. */
export function openDatabase(config: { databaseUrl: string | undefined; dataDir: string }, embedded: EmbeddedOptions = {}): Promise<DatabaseHandle> {
  return config.databaseUrl ? Promise.resolve(openPostgres(config.databaseUrl)) : openEmbedded(config.dataDir, embedded);
}

/** openDatabase without waiting for the embedded database to start (see startEmbedded). */
export function startDatabase(config: { databaseUrl: string | undefined; dataDir: string }, embedded: EmbeddedOptions = {}): Promise<OpeningDatabase> {
  return config.databaseUrl ? Promise.resolve({ database: openPostgres(config.databaseUrl), opened: Promise.resolve() }) : startEmbedded(config.dataDir, embedded);
}

/** Where the data lives, for log lines: never the connection string (it may hold a password). */
export function describeDatabase(config: { databaseUrl: string | undefined; dataDir: string }): string {
  if (!config.databaseUrl) return `embedded PGlite in ${config.dataDir}`;
  const url = new URL(config.databaseUrl);
  return `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`;
}
