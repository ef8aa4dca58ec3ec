import fs from 'node:fs/promises';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { createLocalInvalidation, createPostgresInvalidation } from './kernel/cache/invalidation.js';
import { loadRootKey } from './kernel/crypto/root-key.js';
import { ensureRootKeyMatches, storedRootKeyCheck } from './kernel/crypto/root-key-check.js';
import type { SigningKey } from './kernel/crypto/signing-key.js';
import { openAuditKeys } from './modules/audit/audit-keys.js';
import { createKeyring } from './kernel/crypto/keyring.js';
import { LocalKeyProvider } from './kernel/crypto/key-provider.js';
import { createServiceOutputs } from './modules/services/outputs.js';
import { describeDatabase, openDatabase, type DatabaseHandle } from './kernel/db/connect.js';
import { migrateToLatest } from './kernel/db/migrate.js';
import { loggerOptions } from './kernel/http/logging.js';
import { createAuditService } from './modules/audit/service.js';

export interface RunningServer {
  address: string;
  close(): Promise<void>;
}

/** Opens the database, applies migrations, checks the root key and serves the API until closed. */
export async function runServer(config: Config, log: Logger = pino(loggerOptions(config.logLevel))): Promise<RunningServer> {
  const started = performance.now();
  log.info(`opening ${describeDatabase(config)}`);
  const database = await openDatabase(config);

  try {
    const applied = await migrateToLatest(database.db, describeDatabase(config));
    if (applied.length > 0) log.info({ applied }, 'database migrated');
    // A key file is generated only for new data: with data present, a missing key is an error.
    const check = await storedRootKeyCheck(database.db);
    const rootKey = loadRootKey(
      { rootKey: config.rootKey, dataDir: config.dataDir, embedded: !config.databaseUrl, generate: check === undefined },
      (message) => log.warn(message),
    );
    await ensureRootKeyMatches(database.db, rootKey);
    // From now on an emptied or missing database in this directory is a loss, never a new start.
    database.recordData?.();
    const sealedNow = await createServiceOutputs(createKeyring({ db: database.db, provider: new LocalKeyProvider(rootKey) })).sealLegacy(database.db);
    if (sealedNow > 0) log.info(`sealed the outputs of ${sealedNow} services stored in clear by an earlier version`);
    // After the root key check: keys an earlier version derived from the root key are stored as they were.
    const auditKeys = await openAuditKeys(database.db, rootKey, new LocalKeyProvider(rootKey));

    const invalidation = config.databaseUrl
      ? await createPostgresInvalidation(config.databaseUrl, (message) => log.warn(message))
      : createLocalInvalidation();
    const app = await buildApp({ config, db: database.db, logger: log, invalidation, rootKey, auditKeys });
    app.addHook('onClose', () => invalidation.close());

    const housekeeping = startHousekeeping(config, database, auditKeys.signingKey, log);
    app.addHook('onClose', async () => housekeeping.stop());

    const address = await app.listen({ port: config.port, host: config.host });
    housekeeping.runNow();
    log.info(`Coffer is serving ${address}/api/v1 on ${describeDatabase(config)} (ready in ${Math.round(performance.now() - started)} ms)`);
    return {
      address,
      async close() {
        await app.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/**
 * Hourly: audit retention (idempotent under the chain lock, so every instance may run it)
 * and, with COFFER_CHECKPOINT_DIR, a signed checkpoint per organization written outside
 * the database (SPEC §6) for `POST …/audit-events/verify` later.
 */
function startHousekeeping(config: Config, database: DatabaseHandle, signingKey: SigningKey, log: Logger) {
  const audit = createAuditService({ db: database.db, signingKey });

  async function writeCheckpoints(dir: string) {
    const orgs = await database.db.selectFrom('organizations').select(['id', 'slug']).execute();
    for (const org of orgs) {
      const signed = await audit.checkpointOf(org);
      await fs.mkdir(path.join(dir, org.slug), { recursive: true });
      const file = path.join(dir, org.slug, `${String(signed.checkpoint.sequence).padStart(12, '0')}.json`);
      await fs.writeFile(file, JSON.stringify(signed, null, 2));
    }
  }

  function runNow() {
    audit
      .purgeAll()
      .then((purged) => purged > 0 && log.info({ purged }, 'audit events past retention purged'))
      .catch((error: unknown) => log.error({ err: error }, 'audit retention purge failed'));
    if (config.checkpointDir) {
      writeCheckpoints(config.checkpointDir).catch((error: unknown) => log.error({ err: error }, 'writing audit checkpoints failed'));
    }
  }

  const timer = setInterval(runNow, 3600_000);
  timer.unref();
  return { runNow, stop: () => clearInterval(timer) };
}

/** Closes the server on SIGINT/SIGTERM, once. */
export function closeOnSignals(server: RunningServer, log: Pick<Logger, 'info'>): void {
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log.info(`${signal} received, shutting down`);
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}
