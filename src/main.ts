#!/usr/bin/env node
import { startPGliteThreadIfEmbedded } from './kernel/db/pglite-thread.js';
import { loadServer } from './load-server.js';

/** `npm start`: the server, configured from the environment. */
try {
  // Before the server's modules load, so that the two overlap (kernel/db/pglite-thread.ts).
  const pgliteThread = startPGliteThreadIfEmbedded();
  const { serveFromEnvironment } = await loadServer();
  await serveFromEnvironment({ pgliteThread });
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
