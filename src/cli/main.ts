#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from '../app.js';
import { ConfigError, loadConfig } from '../config.js';
import { describeDatabase, openDatabase } from '../kernel/db/connect.js';
import { migrateToLatest } from '../kernel/db/migrate.js';
import { pino } from 'pino';
import { loggerOptions } from '../kernel/http/logging.js';
import { closeOnSignals, runServer } from '../server.js';
import { rotateRootKeyCommand } from './rotate-root-key-command.js';

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

const admin = program.command('admin').description('Server administration that runs against the database directly');

admin
  .command('rotate-root-key')
  .description(
    'Re-wrap every data key under a new root key, in one transaction (values are not re-encrypted). ' +
      'Stop every Coffer server using this database first.',
  )
  .option('--new-key-file <file>', 'read the new root key (base64, 32 bytes) from this file')
  .option('--generate', 'generate the new root key (embedded database only: it replaces root.key in the data directory)')
  .addHelpText(
    'after',
    [
      '',
      'The current key comes from COFFER_ROOT_KEY or, on the embedded database, root.key in COFFER_DATA_DIR.',
      'The new key comes from COFFER_NEW_ROOT_KEY, --new-key-file, or --generate.',
      '',
      'Examples:',
      '  coffer admin rotate-root-key --generate',
      '  openssl rand -base64 32 > new.key && chmod 600 new.key',
      '  DATABASE_URL=postgres://coffer@db/coffer COFFER_ROOT_KEY=$OLD coffer admin rotate-root-key --new-key-file new.key',
    ].join('\n'),
  )
  .action(async (options: { newKeyFile?: string; generate?: boolean }) => {
    await rotateRootKeyCommand(loadConfig(), { ...options, newKey: process.env.COFFER_NEW_ROOT_KEY }, (line) => console.log(line));
  });

try {
  await program.parseAsync();
} catch (error) {
  console.error(error instanceof ConfigError || error instanceof Error ? `coffer: ${error.message}` : error);
  process.exit(1);
}
