import fs from 'node:fs/promises';
import { usesEmbeddedDatabase } from '../../config.js';

/**
 * PGlite's WebAssembly (9 MB), read and compiled. Left to itself, PGlite compiles it only when
 * an open gets that far, after the server's modules have loaded (~0.2 s); started first thing
 * in the process (main.ts), V8 compiles it on background threads while the main thread loads
 * them (issue #16). A failure here is not reported: PGlite then loads the file itself and
 * reports what is wrong with it.
 */
export function compilePGliteWasm(): Promise<WebAssembly.Module | undefined> {
  return Promise.resolve()
    .then(() => fs.readFile(new URL('pglite.wasm', import.meta.resolve('@electric-sql/pglite'))))
    .then((bytes) => WebAssembly.compile(bytes))
    .catch(() => undefined);
}

/** compilePGliteWasm when the environment names no PostgreSQL, for the server's entry points. */
export function compilePGliteWasmIfEmbedded(env: Record<string, string | undefined> = process.env): Promise<WebAssembly.Module | undefined> | undefined {
  return usesEmbeddedDatabase(env) ? compilePGliteWasm() : undefined;
}
