import fs from 'node:fs';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../kernel/db/schema.js';
import type { Config } from '../config.js';
import { LocalKeyProvider } from '../kernel/crypto/key-provider.js';
import fsPath from 'node:path';
import { decodeRootKey, loadRootKey, newRootKey, readStagedRootKey, RootKeyError, stageRootKeyFile, stagedRootKeyFile, verifyRootKeyCheck } from '../kernel/crypto/root-key.js';
import { rootKeyOpens, storedRootKeyCheck } from '../kernel/crypto/root-key-check.js';
import { describeDatabase, openDatabase } from '../kernel/db/connect.js';
import { migrateToLatest } from '../kernel/db/migrate.js';
import { rotateRootKey } from '../modules/variables/rotate-root-key.js';

export interface RotateOptions {
  /** The new key as base64 (COFFER_NEW_ROOT_KEY). */
  newKey?: string;
  newKeyFile?: string;
  generate?: boolean;
}

/**
 * `coffer admin rotate-root-key`: re-wraps every data key under a new root key in one
 * transaction. On the embedded database with a key file, the new key is written beside the
 * old one before the transaction and takes its place only after the commit.
 */
export async function rotateRootKeyCommand(config: Config, options: RotateOptions, print: (line: string) => void): Promise<number> {
  const embedded = !config.databaseUrl;
  const given = [options.newKey !== undefined, options.newKeyFile !== undefined, options.generate === true].filter(Boolean).length;
  if (given !== 1) throw new Error('Give the new root key exactly one way: COFFER_NEW_ROOT_KEY, --new-key-file FILE, or --generate');
  const keyFileManaged = embedded && config.rootKey === undefined;
  if (options.generate && !keyFileManaged) {
    throw new Error(
      '--generate replaces root.key in the data directory, which is not in use here (DATABASE_URL or COFFER_ROOT_KEY is set): ' +
        'pass the new key with --new-key-file or COFFER_NEW_ROOT_KEY so you can give it to every instance',
    );
  }
  const newKey = options.generate
    ? newRootKey()
    : options.newKeyFile !== undefined
      ? decodeRootKey(fs.readFileSync(options.newKeyFile, 'utf8'), options.newKeyFile)
      : decodeRootKey(options.newKey!, 'COFFER_NEW_ROOT_KEY');

  const database = await openDatabase(config);
  try {
    await migrateToLatest(database.db);
    if (config.databaseUrl) await refuseWhileServersRun(database.db);
    const check = await storedRootKeyCheck(database.db);
    if (keyFileManaged) {
      const staged = readStagedRootKey(config.dataDir);
      if (staged && check && rootKeyOpens(staged, check)) {
        // A rotation committed and stopped before the rename: this file is the only key that opens the data.
        const file = stagedRootKeyFile(config.dataDir);
        throw new RootKeyError(
          `${file} holds the key this data is under now: an earlier rotation committed but did not finish. Back it up and ` +
            `move it into place (mv ${file} ${fsPath.join(config.dataDir, 'root.key')}), then run this command again for another key`,
        );
      }
      // Left by a rotation that never committed: it opens nothing.
      if (staged) fs.rmSync(stagedRootKeyFile(config.dataDir));
    }
    const oldKey = loadRootKey({ rootKey: config.rootKey, dataDir: config.dataDir, embedded, generate: check === undefined }, () => {});
    // Refused before anything is written (rotateRootKey checks again under its lock).
    if (check) verifyRootKeyCheck(oldKey, check);
    if (oldKey.equals(newKey)) throw new Error('The new root key is the current one; nothing to rotate');
    // The new key is on disk before any data depends on it.
    const keyFile = keyFileManaged ? stageRootKeyFile(config.dataDir, newKey) : undefined;
    let count: number;
    let auditKeys = 0;
    try {
      count = await rotateRootKey(
        database.db,
        { oldRootKey: oldKey, newRootKey: newKey, oldProvider: new LocalKeyProvider(oldKey), newProvider: new LocalKeyProvider(newKey) },
        (n) => (auditKeys = n),
      );
    } catch (error) {
      keyFile?.abandon();
      throw error;
    }
    print(
      `Re-wrapped ${count} data key${count === 1 ? '' : 's'} under the new root key (${new LocalKeyProvider(newKey).id}), and the audit log's ` +
        `${auditKeys} key${auditKeys === 1 ? '' : 's'} (earlier checkpoints and HMACs stay valid), in ${describeDatabase(config)}`,
    );
    if (keyFile) print(`Wrote the new root key to ${keyFile.commit()}; back it up: the old key no longer opens this data`);
    else print('Now set COFFER_ROOT_KEY to the new key on every instance before starting them: the old key no longer opens this data');
    return count;
  } finally {
    await database.close();
  }
}

/**
 * A running server keeps the old root key: a data key it creates during or after the
 * rotation would be wrapped under it and lost at the next start. Servers on PostgreSQL hold
 * a LISTEN connection named `coffer-listener <id>`; while one is there, rotation waits.
 * (The embedded database is locked by a running server already.)
 */
async function refuseWhileServersRun(db: Kysely<Database>): Promise<void> {
  const running = await sql<{ count: number }>`
    select count(*)::int as count from pg_stat_activity
    where datname = current_database() and application_name like 'coffer-listener %'`.execute(db);
  const count = running.rows[0]?.count ?? 0;
  if (count > 0) {
    throw new Error(`${count} Coffer server${count === 1 ? ' is' : 's are'} running on this database: stop every one before rotating the root key, then start them with the new key`);
  }
}
