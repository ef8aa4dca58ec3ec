#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { loadServer } from '../load-server.js';
import { CliError, EXIT, useTimeoutFlags } from './api-client.js';
import { auditCommands } from './commands/audit.js';
import { clusterCommands } from './commands/clusters.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { inspectCommands } from './commands/inspect.js';
import { peopleCommands } from './commands/people.js';
import { resourceCommands } from './commands/resources.js';
import { roleCommands } from './commands/roles.js';
import { runCommand } from './commands/run.js';
import { sessionCommands } from './commands/session.js';
import { ssoCommands } from './commands/sso.js';
import { varsCommands } from './commands/vars.js';
import { FILE_ERRORS } from './messages.js';

const program = new Command()
  .name('coffer')
  .description('Coffer: secrets and access control for teams that deploy software')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .option('--timeout <seconds>', 'how long to wait for the server to answer (default: COFFER_TIMEOUT, or 30)')
  .option('--connect-timeout <seconds>', 'how long to wait for the server to accept the connection (default: COFFER_CONNECT_TIMEOUT, or 10)')
  .hook('preAction', (self) => useTimeoutFlags(self.opts()))
  // `coffer run … -- cmd --flag`: what follows the command belongs to it, not to coffer.
  .enablePositionalOptions()
  // Parser errors (a missing flag, an unknown option) exit 2 like other usage errors; set
  // before the commands are defined, so each inherits it.
  .exitOverride();

program
  .command('server')
  .description('Run the API server (configured by environment variables; see the README)')
  .addHelpText('after', '\nExamples:\n  coffer server\n  PORT=9000 DATABASE_URL=postgres://coffer@db/coffer coffer server')
  .action(async () => {
    // Server modules load only for the commands that need them: `coffer run` starts fast.
    const pgliteThread = (await import('../kernel/db/pglite-thread.js')).startPGliteThreadIfEmbedded();
    const { serveFromEnvironment } = await loadServer();
    await serveFromEnvironment({ pgliteThread });
  });

program
  .command('migrate')
  .description('Apply pending database migrations and exit (the server also applies them at start)')
  .addHelpText('after', '\nExamples:\n  coffer migrate\n  DATABASE_URL=postgres://coffer@db/coffer coffer migrate')
  .action(async () => {
    const [{ loadConfig }, { describeDatabase, openDatabase }, { migrateToLatest }] = await Promise.all([
      import('../config.js'),
      import('../kernel/db/connect.js'),
      import('../kernel/db/migrate.js'),
    ]);
    const config = loadConfig();
    const database = await openDatabase(config);
    try {
      const applied = await migrateToLatest(database.db, describeDatabase(config));
      console.log(
        applied.length > 0
          ? `Applied ${applied.join(', ')} to ${describeDatabase(config)}`
          : `${describeDatabase(config)} is up to date`,
      );
    } finally {
      await database.close();
    }
  });

sessionCommands(program);
peopleCommands(program);
resourceCommands(program);
clusterCommands(program);
roleCommands(program);
varsCommands(program);
runCommand(program);
exportCommand(program);
importCommand(program);
auditCommands(program);
inspectCommands(program);
ssoCommands(program);

const admin = program
  .command('admin')
  .description('Server administration that runs against the database directly')
  .addHelpText('after', '\nExamples:\n  coffer admin rotate-root-key --generate\n  coffer admin backup /backups/coffer.tar.gz');

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
    const [{ loadConfig }, { rotateRootKeyCommand }] = await Promise.all([import('../config.js'), import('./rotate-root-key-command.js')]);
    await rotateRootKeyCommand(loadConfig(), { ...options, newKey: process.env.COFFER_NEW_ROOT_KEY }, (line) => console.log(line));
  });

admin
  .command('backup')
  .description('Write a consistent copy of the embedded database to FILE, while the server runs or not (not the root key)')
  .argument('<file>', 'where to write the backup (a gzipped tar, mode 0600)')
  .addHelpText(
    'after',
    [
      '',
      'Uses COFFER_DATA_DIR. A running server makes the copy itself (through coffer.sock in the data directory);',
      'otherwise the command opens the directory. With DATABASE_URL, use pg_dump instead.',
      'Keep root.key (or COFFER_ROOT_KEY) with your backups, apart from them: the backup does not contain it.',
      '',
      'Examples:',
      '  coffer admin backup /backups/coffer-$(date +%F).tar.gz',
      '  COFFER_DATA_DIR=/var/lib/coffer coffer admin backup coffer.tar.gz',
    ].join('\n'),
  )
  .action(async (file: string) => {
    const [{ loadConfig }, { backupCommand }] = await Promise.all([import('../config.js'), import('./backup-command.js')]);
    await backupCommand(loadConfig(), file, (line) => console.log(line));
  });

admin
  .command('restore')
  .description('Restore a backup made by coffer admin backup into COFFER_DATA_DIR, which must hold no database')
  .argument('<file>', 'the backup to restore')
  .addHelpText(
    'after',
    [
      '',
      'Stop the server first; move the damaged pgdata away (keep it until the restored server works).',
      'Then put the root.key kept with the backup into the data directory (or set COFFER_ROOT_KEY) and start Coffer.',
      '',
      'Examples:',
      '  mv data/pgdata data/pgdata.damaged && coffer admin restore /backups/coffer-2026-01-31.tar.gz',
    ].join('\n'),
  )
  .action(async (file: string) => {
    const [{ loadConfig }, { restoreCommand }] = await Promise.all([import('../config.js'), import('./backup-command.js')]);
    await restoreCommand(loadConfig(), file, (line) => console.log(line));
  });

program.addHelpText(
  'after',
  `
Environment: COFFER_URL (default http://127.0.0.1:8080), COFFER_TOKEN, COFFER_ORG, COFFER_CONFIG_DIR, COFFER_TIMEOUT, COFFER_CONNECT_TIMEOUT.
Exit codes: ${EXIT.ok} ok, ${EXIT.failure} failure, ${EXIT.usage} usage, ${EXIT.unauthenticated} not signed in, ${EXIT.forbidden} forbidden, ${EXIT.notFound} not found, ${EXIT.rejected} rejected input, ${EXIT.unreachable} server unreachable; coffer run exits with its command's code.`,
);

try {
  await program.parseAsync();
} catch (error) {
  // Commander has already printed its own message (and help, for --help: exit 0).
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
  // A file a command could not read or write is named in words, never as a raw ENOENT.
  const { code, path: file } = error as NodeJS.ErrnoException;
  if (!(error instanceof CliError) && typeof file === 'string' && code && FILE_ERRORS[code]) {
    console.error(`coffer: ${file}: ${FILE_ERRORS[code]}`);
    process.exit(EXIT.usage);
  }
  console.error(`coffer: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(error instanceof CliError ? error.exitCode : EXIT.failure);
}
