import { pino } from 'pino';
import { AUDIT_CHECKPOINT_KEY, buildApp } from './app.js';
import { loadRootKey } from './kernel/crypto/root-key.js';
import { ensureRootKeyMatches } from './kernel/crypto/root-key-check.js';
import { SigningKey } from './kernel/crypto/signing-key.js';
import { createAuditService } from './modules/audit/service.js';
import type { Config } from './config.js';
import { describeDatabase, openDatabase } from './kernel/db/connect.js';
import { migrateToLatest } from './kernel/db/migrate.js';
import { loggerOptions } from './kernel/http/logging.js';
import { createLocalInvalidation, createPostgresInvalidation } from './kernel/cache/invalidation.js';

/** Opens the database, applies migrations, serves the API, and shuts down cleanly on SIGINT/SIGTERM. */
export async function runServer(config: Config): Promise<void> {
  const started = performance.now();
  const log = pino(loggerOptions(config.logLevel));
  log.info(`opening ${describeDatabase(config)}`);
  const database = await openDatabase(config);

  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length > 0) log.info({ applied }, 'database migrated');
    const invalidation = config.databaseUrl
      ? await createPostgresInvalidation(config.databaseUrl, (message) => log.warn(message))
      : createLocalInvalidation();
    const rootKey = loadRootKey({ rootKey: config.rootKey, dataDir: config.dataDir, embedded: !config.databaseUrl }, (message) => log.warn(message));
    await ensureRootKeyMatches(database.db, rootKey);
    const app = await buildApp({ config, db: database.db, logger: log, invalidation, rootKey });
    app.addHook('onClose', () => invalidation.close());

    let closing = false;
    const shutdown = async (signal: string) => {
      if (closing) return;
      closing = true;
      log.info(`${signal} received, shutting down`);
      await app.close();
      await database.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void shutdown('SIGINT'));
    process.once('SIGTERM', () => void shutdown('SIGTERM'));

    // Audit retention, hourly; several instances may all run it: purges are idempotent under the chain lock.
    const audit = createAuditService({ db: database.db, signingKey: new SigningKey(rootKey, AUDIT_CHECKPOINT_KEY) });
    const purge = () =>
      audit
        .purgeAll()
        .then((purged) => purged > 0 && log.info({ purged }, 'audit events past retention purged'))
        .catch((error: unknown) => log.error({ err: error }, 'audit retention purge failed'));
    const timer = setInterval(purge, 3600_000);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));

    const address = await app.listen({ port: config.port, host: config.host });
    void purge();

    log.info(`Coffer is serving ${address}/api/v1 on ${describeDatabase(config)} (ready in ${Math.round(performance.now() - started)} ms)`);
  } catch (error) {
    await database.close();
    throw error;
  }
}
