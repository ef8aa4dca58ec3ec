import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { loadRootKey, ROOT_KEY_FILE } from '../kernel/crypto/root-key.js';
import { rootKeyOpens } from '../kernel/crypto/root-key-check.js';
import { backupThroughServer, restoreEmbedded, writeBackupFile } from '../kernel/db/backup.js';
import { describeDatabase, openEmbedded } from '../kernel/db/connect.js';
import { PGDATA } from '../kernel/db/embedded-files.js';

const POSTGRES =
  'With PostgreSQL (DATABASE_URL), back up and restore with its own tools (pg_dump --format=custom, pg_restore); ' +
  'coffer admin backup and restore cover the embedded database';

const KEY_REMINDER =
  'The backup does not contain the root key: keep root.key (or COFFER_ROOT_KEY) with your backups, stored apart ' +
  'from them. Without it no secret in the backup can be decrypted.';

/**
 * `coffer admin backup FILE`: a consistent copy of the embedded database, taken by the
 * running server (it pauses queries for the moment of the copy) or, when none runs, by
 * opening the data directory here.
 */
export async function backupCommand(config: Config, file: string, print: (line: string) => void): Promise<void> {
  if (config.databaseUrl) throw new Error(POSTGRES);
  let bytes = await backupThroughServer(config.dataDir);
  let how = 'from the running server';
  if (!bytes) {
    if (!fs.existsSync(path.join(config.dataDir, PGDATA, 'PG_VERSION'))) {
      throw new Error(`There is no embedded database in ${config.dataDir} to back up (is COFFER_DATA_DIR right?)`);
    }
    const database = await openEmbedded(config.dataDir);
    try {
      bytes = Buffer.from(await (await database.dump!()).arrayBuffer());
    } finally {
      await database.close();
    }
    how = 'with no server running';
  }
  writeBackupFile(file, bytes);
  print(`Backed up ${describeDatabase(config)} ${how} to ${file} (${(bytes.length / 1024 / 1024).toFixed(1)} MiB, mode 0600).`);
  print(KEY_REMINDER);
}

/**
 * `coffer admin restore FILE`: into a data directory with no database (never over one), then
 * says whether the root key in place opens it.
 */
export async function restoreCommand(config: Config, file: string, print: (line: string) => void): Promise<void> {
  if (config.databaseUrl) throw new Error(POSTGRES);
  const { check } = await restoreEmbedded(config.dataDir, fs.readFileSync(file));
  print(`Restored ${file} into ${path.join(config.dataDir, PGDATA)}.`);
  const keyFile = path.join(config.dataDir, ROOT_KEY_FILE);
  const source = config.rootKey ? 'COFFER_ROOT_KEY' : fs.existsSync(keyFile) ? keyFile : undefined;
  if (!source) {
    print(
      `The backup does not contain the root key: before starting Coffer, put the root.key kept with this backup into ` +
        `${config.dataDir} (chmod 600 ${keyFile}), or set COFFER_ROOT_KEY to its contents.`,
    );
    return;
  }
  const key = loadRootKey({ rootKey: config.rootKey, dataDir: config.dataDir, embedded: true, generate: false }, () => {});
  if (rootKeyOpens(key, check)) print(`The root key in ${source} opens the restored data: Coffer can start.`);
  else {
    throw new Error(
      `Restored, but the root key in ${source} is not the one this backup was made under: Coffer will refuse to start ` +
        'until the original key is in place (the backup does not contain it).',
    );
  }
}
