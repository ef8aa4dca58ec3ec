#!/usr/bin/env node
import { compilePGliteWasmIfEmbedded } from './kernel/db/pglite-wasm.js';
import { loadServer } from './load-server.js';

/** `npm start`: the server, configured from the environment. */
try {
  // Before the server's modules load, so that the two overlap (kernel/db/pglite-wasm.ts).
  const pgliteWasm = compilePGliteWasmIfEmbedded();
  const { serveFromEnvironment } = await loadServer();
  await serveFromEnvironment({ pgliteWasm });
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
