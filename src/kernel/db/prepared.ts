import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * Statements PostgreSQL parses and plans once per connection instead of on every execution
 * (issue #16). Kysely sends every query unnamed, so PostgreSQL plans it anew each time; for
 * the read events' batch insert that planning cost more CPU than inserting twenty events
 * (measured: 1,180 → 490 µs of backend CPU per batch of 20). A statement registered here by its
 * exact text goes out under a name derived from that text; node-postgres then prepares it on
 * each connection the first time and only binds and executes it after. PGlite's API has no
 * named statements: its dialect PREPAREs the text once in SQL and EXECUTEs it (pglite-dialect.ts).
 */
const names = new Map<string, string>();

/** Has `text` planned once per connection (per PGlite) that runs it; the text must be constant, parameters as $n. */
export function prepareOnce(text: string): void {
  if (!names.has(text)) names.set(text, `coffer_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`);
}

/** The name `text` is prepared under, if it was registered. */
export const preparedName = (text: string): string | undefined => names.get(text);

/**
 * Makes a pool's clients send registered statements by name. Kysely calls
 * `client.query(text, values)`; the rest goes through untouched.
 */
export function sendPreparedByName(pool: pg.Pool): void {
  let unnamedOnly = false;
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (config: unknown, ...rest: unknown[]) => {
      // Kysely's call is (text, values); any other form (a callback, a config object) goes through as it came.
      const name = !unnamedOnly && typeof config === 'string' && rest.length === 1 ? preparedName(config) : undefined;
      if (name === undefined) return query(config, ...rest);
      return (query({ name, text: config, values: rest[0] }) as Promise<unknown>).catch((error: unknown) => {
        if (!STATEMENT_LOST.has((error as { code?: string }).code ?? '')) throw error;
        // A connection pooler in transaction mode (PgBouncer before 1.21, or without
        // max_prepared_statements) runs each statement on whichever server connection is free,
        // where the name means nothing: from now on this pool sends every statement unnamed.
        unnamedOnly = true;
        return query(config, ...rest);
      });
    };
  });
}

/** SQLSTATE 26000 (no such prepared statement) and 42P05 (one by that name exists already). */
const STATEMENT_LOST = new Set(['26000', '42P05']);
