import type { Results } from '@electric-sql/pglite';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { normaliseRow } from './normalise.js';
import type { PGliteLike } from './pglite-thread.js';
import { preparedName } from './prepared.js';

/**
 * A Kysely dialect over PGlite 0.5 (PostgreSQL 18 in WASM). kysely-pglite-dialect only
 * accepts PGlite ≤ 0.4, and a dialect is just this small driver/connection pair.
 *
 * PGlite is one connection (in this thread or its own), so the driver hands it out to one
 * Kysely "connection" at a time: a transaction's statements can never interleave with
 * another request's.
 */
export class PGliteDialect implements Dialect {
  constructor(private readonly pglite: PGliteLike) {}

  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PGliteDriver(this.pglite);
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

class PGliteDriver implements Driver {
  private readonly connection: PGliteConnection;
  private queue: Promise<void> = Promise.resolve();
  private releaseCurrent: (() => void) | undefined;

  constructor(pglite: PGliteLike) {
    this.connection = new PGliteConnection(pglite);
  }

  /** Kysely's first statement waits for this: PGlite may still be starting (see startEmbedded). */
  async init(): Promise<void> {
    await this.connection.pglite.waitReady;
    await this.connection.pglite.exec(`set timezone to 'UTC'`);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.queue;
    let release!: () => void;
    this.queue = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.releaseCurrent = release;
    return this.connection;
  }

  async releaseConnection(): Promise<void> {
    const release = this.releaseCurrent;
    this.releaseCurrent = undefined;
    release?.();
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const isolation = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : '';
    await connection.executeQuery(CompiledQuery.raw(`begin${isolation}`));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async destroy(): Promise<void> {
    // The PGlite instance belongs to whoever opened it (see connect.ts), which closes it.
  }
}

class PGliteConnection implements DatabaseConnection {
  /** Statements PREPAREd in this PGlite's one session (see prepared.ts). */
  private readonly prepared = new Set<string>();
  private standardConformingStrings: boolean | undefined;

  constructor(readonly pglite: PGliteLike) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const name = preparedName(compiledQuery.sql);
    const literals = name === undefined || !(await this.standardStrings()) ? undefined : sqlLiterals(compiledQuery.parameters);
    // Without parameters use the simple protocol, which (like pg) accepts several
    // statements at once: migrations are written as SQL scripts.
    const result =
      name !== undefined && literals !== undefined
        ? await this.executePrepared(name, compiledQuery.sql, literals)
        : compiledQuery.parameters.length === 0
          ? lastResult(await this.pglite.exec(compiledQuery.sql))
          : await this.pglite.query<Record<string, unknown>>(compiledQuery.sql, [...compiledQuery.parameters]);
    const rows = result.rows.map(normaliseRow) as R[];
    return result.affectedRows === undefined
      ? { rows }
      : { rows, numAffectedRows: BigInt(result.affectedRows) };
  }

  /**
   * A registered statement, planned once: PGlite's query() parses it and asks for its
   * parameters' types on every call, which for the read events' batch insert cost more than
   * the insert. Its parameters travel as SQL literals in one EXECUTE (the simple protocol).
   */
  private async executePrepared(name: string, text: string, literals: string[], again = false): Promise<Results<Record<string, unknown>>> {
    if (!this.prepared.has(name)) {
      await this.pglite.exec(`prepare ${name} as ${text}`);
      this.prepared.add(name);
    }
    try {
      return lastResult(await this.pglite.exec(`execute ${name}(${literals.join(', ')})`));
    } catch (error) {
      // Gone from the session (deallocated by someone else's DEALLOCATE ALL): prepared again, once.
      if (again || (error as { code?: string }).code !== INVALID_STATEMENT_NAME) throw error;
      this.prepared.delete(name);
      return this.executePrepared(name, text, literals, true);
    }
  }

  /** sqlLiterals writes standard strings (a backslash is just a backslash): PostgreSQL's default, checked once. */
  private async standardStrings(): Promise<boolean> {
    if (this.standardConformingStrings === undefined) {
      const setting = await this.pglite.query<{ standard_conforming_strings: string }>('show standard_conforming_strings');
      this.standardConformingStrings = setting.rows[0]?.standard_conforming_strings === 'on';
    }
    return this.standardConformingStrings;
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite dialect does not stream; page with keyset queries instead');
  }
}

/** SQLSTATE 26000: EXECUTE of a statement the session does not have. */
const INVALID_STATEMENT_NAME = '26000';

function lastResult(results: Results[]): Results<Record<string, unknown>> {
  return (results.at(-1) ?? { rows: [], fields: [] }) as Results<Record<string, unknown>>;
}

/**
 * Parameters as SQL literals (standard_conforming_strings is on: inside '…' only a quote is
 * special, and it is doubled), or undefined for a value of another kind, which then goes as
 * a bound parameter instead. A literal's type is the prepared statement's parameter's.
 */
export function sqlLiterals(parameters: readonly unknown[]): string[] | undefined {
  const literals: string[] = [];
  for (const value of parameters) {
    if (value === null || value === undefined) literals.push('null');
    else if (typeof value === 'number' && Number.isFinite(value)) literals.push(String(value));
    else if (typeof value === 'bigint') literals.push(value.toString());
    else if (typeof value === 'boolean') literals.push(value ? 'true' : 'false');
    else if (typeof value === 'string' && !value.includes('\0')) literals.push(`'${value.replaceAll("'", "''")}'`);
    else if (Buffer.isBuffer(value)) literals.push(`'\\x${value.toString('hex')}'`);
    else if (value instanceof Date && !Number.isNaN(value.getTime())) literals.push(`'${value.toISOString()}'`);
    else return undefined;
  }
  return literals;
}
