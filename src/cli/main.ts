#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from '../app.js';
import { ConfigError, loadConfig } from '../config.js';
import { describeDatabase, openDatabase } from '../kernel/db/connect.js';
import { migrateToLatest } from '../kernel/db/migrate.js';
import { pino } from 'pino';
import { loggerOptions } from '../kernel/http/logging.js';
import { closeOnSignals, runServer } from '../server.js';

const program = new Command()
  .name('coffer')
  .description('Coffer: secrets and access control for teams that deploy software')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)');

program
  .command('server')
  .description('Run the API server (configured by environment variables; see the README)')
  .addHelpText('after', '\nExamples:\n  coffer server\n  PORT=9000 DATABASE_URL=postgres://coffer@db/coffer coffer server')
  .action(async () => {
    const config = loadConfig();
    const log = pino(loggerOptions(config.logLevel));
    closeOnSignals(await runServer(config, log), log);
  });

program
  .command('migrate')
  .description('Apply pending database migrations and exit (the server also applies them at start)')
  .addHelpText('after', '\nExamples:\n  coffer migrate\n  DATABASE_URL=postgres://coffer@db/coffer coffer migrate')
  .action(async () => {
    const config = loadConfig();
    const database = await openDatabase(config);
    try {
      const applied = await migrateToLatest(database.db);
      console.log(
        applied.length > 0
          ? `Applied ${applied.join(', ')} to ${describeDatabase(config)}`
          : `${describeDatabase(config)} is up to date`,
      );
    } finally {
      await database.close();
    }
  });

try {
  await program.parseAsync();
} catch (error) {
  console.error(error instanceof ConfigError || error instanceof Error ? `coffer: ${error.message}` : error);
  process.exit(1);
}
