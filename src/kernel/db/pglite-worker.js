// @ts-check
// The embedded database's own thread (see pglite-thread.ts, which starts it and talks to it).
// Plain JavaScript, not TypeScript: a worker is started from a file Node runs as it is, the
// same one from src/ under the tests, from dist/ and from dist/bundle/.
import fs from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';

/**
 * PGlite's WebAssembly (9 MB), compiled as soon as the thread starts, before PGlite's own
 * modules load: the thread is started first thing in the process (main.ts), before the server
 * knows its data directory. (Compiled by the server's thread instead, it slowed the start: the
 * server loads its own modules then.) On a failure PGlite loads the file itself when it opens,
 * and reports what is wrong with it.
 * @type {Promise<WebAssembly.Module | undefined>}
 */
const wasmModule = fs
  .readFile(new URL('pglite.wasm', import.meta.resolve('@electric-sql/pglite')))
  .then((bytes) => WebAssembly.compile(bytes))
  .catch(() => undefined);
const { PGlite } = await import('@electric-sql/pglite');

const INT8_OID = 20;
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

/** @type {import('@electric-sql/pglite').PGlite | undefined} */
let pglite;

/**
 * An error as data: its message and its scalar fields (PostgreSQL's code, constraint,
 * detail… as PGlite sets them), which is all the other side reads of it.
 * @param {unknown} error
 */
function errorData(error) {
  if (!(error instanceof Error)) return { message: String(error) };
  /** @type {Record<string, string | number | boolean>} */
  const fields = {};
  for (const [key, value] of Object.entries(error)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[key] = value;
  }
  return { ...fields, name: error.name, message: error.message };
}

/** @param {{ dataDir: string; startParams: string[] }} options */
async function open(options) {
  if (pglite) throw new Error('this thread has opened its database already');
  const compiled = await wasmModule;
  pglite = new PGlite({
    dataDir: options.dataDir,
    startParams: [...PGlite.defaultStartParams, ...options.startParams],
    parsers: { [INT8_OID]: (/** @type {string} */ value) => Number(value) },
    ...(compiled ? { pgliteWasmModule: compiled } : {}),
  });
  await pglite.waitReady;
}

/** @param {import('@electric-sql/pglite').PGlite | undefined} database */
function opened(database) {
  if (!database) throw new Error('the database is not open');
  return database;
}

/** @param {{ op: string; sql: string; params: unknown[]; dataDir: string; startParams: string[] }} request */
async function answer(request) {
  switch (request.op) {
    case 'open':
      return open(request);
    case 'query':
      return opened(pglite).query(request.sql, request.params);
    case 'exec':
      return opened(pglite).exec(request.sql);
    case 'dump': {
      // The bytes, moved rather than copied: a Blob's own cloning is not what every Node has.
      const blob = await opened(pglite).dumpDataDir('gzip');
      return { type: blob.type, bytes: new Uint8Array(await blob.arrayBuffer()) };
    }
    case 'close':
      await opened(pglite).close();
      return undefined;
    default:
      throw new Error(`unknown operation ${request.op}`);
  }
}

port.on('message', (/** @type {{ id: number; op: string; sql: string; params: unknown[]; dataDir: string; startParams: string[] }} */ request) => {
  answer(request).then(
    (result) => {
      const transfer = request.op === 'dump' && result ? [/** @type {{ bytes: Uint8Array }} */ (result).bytes.buffer] : [];
      port.postMessage({ id: request.id, ok: true, result }, /** @type {ArrayBuffer[]} */ (transfer));
    },
    (error) => port.postMessage({ id: request.id, ok: false, error: errorData(error) }),
  );
});
