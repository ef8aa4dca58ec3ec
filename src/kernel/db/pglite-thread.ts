import { Worker } from 'node:worker_threads';
import type { Results } from '@electric-sql/pglite';
import { usesEmbeddedDatabase } from '../../config.js';

/** What Coffer asks of a PGlite: the instance itself (tests, tools) or one on its own thread. */
export interface PGliteLike {
  readonly waitReady: Promise<void>;
  query<T>(sql: string, params?: unknown[]): Promise<Results<T>>;
  exec(sql: string): Promise<Array<Results>>;
  dumpDataDir(compression: 'gzip'): Promise<Blob>;
  close(): Promise<void>;
}

/** A thread for the embedded database, started before the server knows where its data is. */
export interface PGliteThread {
  /** Starts PostgreSQL on the thread over `dataDir`, with `startParams` added to PGlite's own; once. */
  open(options: { dataDir: string; startParams: string[] }): PGliteLike;
}

interface Answer {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { message: string; name?: string } & Record<string, unknown>;
}

/** A PostgreSQL error from the database's thread, with the fields repos read (code, constraint, …). */
function errorFrom(data: NonNullable<Answer['error']>): Error {
  const { message, name, ...fields } = data;
  const error = Object.assign(new Error(message), fields);
  if (name) error.name = name;
  return error;
}

/**
 * The embedded database on a thread of its own (issue #16). On the server's thread, PGlite's
 * PostgreSQL (WebAssembly) ran its start-up — about half a second of a restart — and every
 * statement between HTTP requests; here the server builds its routes while PostgreSQL starts,
 * and answers requests while a batch of read events commits. A statement costs a message each
 * way. Errors come back as errors with PostgreSQL's fields; a thread that dies fails what was
 * asked of it and everything after.
 *
 * Started first thing in the process (main.ts), the thread boots Node, compiles PGlite's
 * WebAssembly and loads PGlite while the server's own modules load; it holds the process open
 * only once opened.
 */
export function startPGliteThread(): PGliteThread {
  const worker = new Worker(new URL('./pglite-worker.js', import.meta.url));
  worker.unref();
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let dead: Error | undefined;

  function fail(error: Error) {
    dead ??= error;
    for (const pending of waiting.values()) pending.reject(dead);
    waiting.clear();
  }
  worker.on('message', (answer: Answer) => {
    const pending = waiting.get(answer.id);
    if (!pending) return;
    waiting.delete(answer.id);
    if (answer.ok) pending.resolve(answer.result);
    else pending.reject(errorFrom(answer.error!));
  });
  worker.on('error', (error) => fail(new Error(`the embedded database stopped: ${error.message}`, { cause: error })));
  worker.on('exit', (code) => fail(new Error(`the embedded database's thread ended (exit code ${code})`)));

  function ask<T>(op: string, fields: Record<string, unknown> = {}): Promise<T> {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ id, op, ...fields });
    });
  }

  let asked = false;
  return {
    open(options) {
      if (asked) throw new Error('a PGlite thread opens one database');
      asked = true;
      worker.ref();
      const waitReady = ask<void>('open', { dataDir: options.dataDir, startParams: options.startParams });
      let opened = false;
      waitReady.then(
        () => (opened = true),
        () => {}, // the opener awaits it; a failure must not also be unhandled
      );
      return {
        waitReady,
        query: <T>(sql: string, params: unknown[] = []) => ask<Results<T>>('query', { sql, params }),
        exec: (sql: string) => ask<Array<Results>>('exec', { sql }),
        async dumpDataDir() {
          const { type, bytes } = await ask<{ type: string; bytes: Uint8Array<ArrayBuffer> }>('dump');
          return new Blob([bytes], { type });
        },
        async close() {
          try {
            // A PostgreSQL that never started has nothing to close: its thread just ends.
            if (opened && !dead) await ask('close');
          } finally {
            await worker.terminate();
          }
        },
      };
    },
  };
}

/** startPGliteThread when the environment names no PostgreSQL, for the server's entry points (main.ts, `coffer server`). */
export function startPGliteThreadIfEmbedded(env: Record<string, string | undefined> = process.env): PGliteThread | undefined {
  return usesEmbeddedDatabase(env) ? startPGliteThread() : undefined;
}
