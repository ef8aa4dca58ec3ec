#!/usr/bin/env node
import { serveFromEnvironment } from './server.js';

/** `npm start`: the server, configured from the environment. */
try {
  await serveFromEnvironment();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
