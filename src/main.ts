#!/usr/bin/env node
import { pino } from 'pino';
import { loadConfig } from './config.js';
import { loggerOptions } from './kernel/http/logging.js';
import { closeOnSignals, runServer } from './server.js';

/** `npm start`: the server, configured from the environment. */
try {
  const config = loadConfig();
  const log = pino(loggerOptions(config.logLevel));
  closeOnSignals(await runServer(config, log), log);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
