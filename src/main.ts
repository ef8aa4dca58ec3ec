#!/usr/bin/env node
import { loadConfig, ConfigError } from './config.js';
import { runServer } from './server.js';

/** `npm start`: the server, configured from the environment. */
try {
  await runServer(loadConfig());
} catch (error) {
  console.error(error instanceof ConfigError || error instanceof Error ? error.message : error);
  process.exit(1);
}
