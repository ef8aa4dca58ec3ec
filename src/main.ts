#!/usr/bin/env node
import { loadServer } from './load-server.js';

/** `npm start`: the server, configured from the environment. */
try {
  const { serveFromEnvironment } = await loadServer();
  await serveFromEnvironment();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
