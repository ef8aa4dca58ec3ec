import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { loadConfig, type Config } from './config.js';
import { createLocalInvalidation, createPostgresInvalidation, type Invalidation } from './kernel/cache/invalidation.js';
import { loadRootKey } from './kernel/crypto/root-key.js';
import { ensureRootKeyMatches, storedRootKeyCheck } from './kernel/crypto/root-key-check.js';
import { openAudit, type OpenedAudit } from './modules/audit/index.js';
import { createKeyring } from './kernel/crypto/keyring.js';
import { LocalKeyProvider } from './kernel/crypto/key-provider.js';
import { createServiceOutputs } from './modules/services/outputs.js';
import { describeDatabase, startDatabase, type DatabaseHandle } from './kernel/db/connect.js';
import { migrateToLatest } from './kernel/db/migrate.js';
import type { PGliteThread } from './kernel/db/pglite-thread.js';
import { serveBackups } from './kernel/db/backup.js';
import { createServerLogger } from './kernel/http/log-output.js';
import type { AuditService } from './modules/audit/service.js';
import { startDeliveryWorker } from './modules/webhooks/index.js';

export interface RunningServer {
  address: string;
  close(): Promise<void>;
  /** What close() is waiting for at this moment (undefined before and after), for the shutdown deadline's message. */
  readonly closing: string | undefined;
}

export interface ServeOptions {
  /** The embedded database's thread, started first thing in the process (main.ts; see kernel/db/pglite-thread.ts). */
  pgliteThread?: PGliteThread | undefined;
}

/** Opens the database, applies migrations, checks the root key and serves the API until closed. */
export async function runServer(config: Config, log: Logger = createServerLogger(config.logLevel).log, options: ServeOptions = {}): Promise<RunningServer> {
  const started = performance.now();
  // Loaded while the database opens (issue #16): the embedded one starts on its own thread.
  const appModule = import('./app.js');
  appModule.catch(() => {}); // awaited below; an open that fails first must not leave it unhandled
  log.info(`opening ${describeDatabase(config)}`);
  const { database, opened } = await startDatabase(config, { thread: options.pgliteThread });

  let invalidation: Promise<Invalidation> | undefined;
  try {
    // The root key as it stands when this data directory or COFFER_ROOT_KEY already holds one
    // (every start but the first): then the app is built while the database opens, on its own
    // thread for the embedded one (issue #16). Whether it fits the data is checked before
    // anything is served (prepareDatabase).
    const presentKey = rootKeyIfPresent(config);
    const preparing = opened.then(() => prepareDatabase(config, database, presentKey, log));
    preparing.catch(() => {}); // awaited below, after the app is built or in place of it
    // PostgreSQL's change channel connects meanwhile; when it cannot, the database is likely the
    // cause, and preparing it says so in full (naming it, never its password): that error first.
    const connecting = (invalidation = config.databaseUrl
      ? createPostgresInvalidation(config.databaseUrl, (message) => log.warn(message))
      : Promise.resolve(createLocalInvalidation()));
    connecting.catch(() => {});
    const changes = await connecting.catch(async (error: unknown) => {
      await preparing;
      throw error;
    });
    const { buildApp } = await appModule;
    // What runs beside the routes starts once the database is prepared; its hooks go on now,
    // since a Fastify app takes no hook once it is getting ready.
    let background: { deliveries: { stop(): Promise<void> | void }; housekeeping: ReturnType<typeof startHousekeeping> } | undefined;
    const build = async (rootKey: Buffer, audit: OpenedAudit | Promise<OpenedAudit>) => {
      const built = await buildApp({ config, db: database.db, logger: log, invalidation: changes, rootKey, audit });
      built.addHook('onClose', () => changes.close());
      // preClose: before the database closes under a delivery attempt in flight.
      built.addHook('preClose', async () => background?.deliveries.stop());
      built.addHook('onClose', async () => background?.housekeeping.stop());
      return built;
    };
    const early = presentKey ? await build(presentKey, preparing.then((prepared) => prepared.audit)) : undefined;
    if (early) {
      // Fastify compiles what its routes need as it gets ready: meanwhile too. Ready completes
      // (onReady) once the audit keys are open.
      early.ready(() => {}); // listen awaits the same readiness below, and reports a failure
    }
    const { rootKey, audit } = await preparing;
    const app = early ?? (await build(rootKey, audit));
    const running = (background = {
      // Every instance sends queued webhook deliveries; the claim keeps them from sending one twice.
      deliveries: startDeliveryWorker({
        db: database.db,
        keyring: createKeyring({ db: database.db, provider: new LocalKeyProvider(rootKey) }),
        options: config.webhooks,
        onError: (error) => log.error({ err: error }, 'webhook delivery failed'),
      }),
      housekeeping: startHousekeeping(config, database, audit.service, log),
    });

    const address = await app.listen({ port: config.port, host: config.host });
    // `coffer admin backup` while serving (embedded only): see kernel/db/backup.ts.
    const backups = database.dump
      ? await serveBackups(config.dataDir, database.dump, (message) => log.warn(message)).catch((error: unknown) => {
          log.warn({ err: error }, 'online backups are off: the control socket could not be opened');
          return undefined;
        })
      : undefined;
    running.housekeeping.runNow();
    log.info(`Coffer is serving ${address}/api/v1 on ${describeDatabase(config)} (ready in ${Math.round(performance.now() - started)} ms)`);
    let closing: string | undefined;
    return {
      address,
      get closing() {
        return closing;
      },
      async close() {
        closing = 'a backup being taken (the control socket)';
        await backups?.close();
        closing = 'requests in flight and open connections (the HTTP server)';
        await app.close();
        closing = `closing ${describeDatabase(config)}`;
        await database.close();
        closing = undefined;
      },
    };
  } catch (error) {
    // No app is listening yet: what it holds besides the database is the invalidation channel.
    await invalidation?.then((channel) => channel.close()).catch(() => {});
    await database.close();
    throw error;
  }
}

/** The root key from COFFER_ROOT_KEY or the data directory's key file, when there is one; never generated here. */
function rootKeyIfPresent(config: Config): Buffer | undefined {
  try {
    return loadRootKey({ rootKey: config.rootKey, dataDir: config.dataDir, embedded: !config.databaseUrl, generate: false }, () => {});
  } catch {
    return undefined; // none yet (a first start), or an error prepareDatabase reports in full
  }
}

/**
 * What must hold before the database serves anyone: migrations applied, the root key (the one
 * present, or a new one for new data) matching the data, earlier versions' clear outputs
 * sealed, the audit keys open.
 */
async function prepareDatabase(config: Config, database: DatabaseHandle, presentKey: Buffer | undefined, log: Logger) {
  const applied = await migrateToLatest(database.db, describeDatabase(config));
  if (applied.length > 0) log.info({ applied }, 'database migrated');
  // A key file is generated only for new data: with data present, a missing key is an error.
  const check = await storedRootKeyCheck(database.db);
  const rootKey =
    presentKey ??
    loadRootKey(
      { rootKey: config.rootKey, dataDir: config.dataDir, embedded: !config.databaseUrl, generate: check === undefined },
      (message) => log.warn(message),
    );
  await ensureRootKeyMatches(database.db, rootKey);
  // From now on an emptied or missing database in this directory is a loss, never a new start.
  database.recordData?.();
  const sealedNow = await createServiceOutputs(createKeyring({ db: database.db, provider: new LocalKeyProvider(rootKey) })).sealLegacy(database.db);
  if (sealedNow > 0) log.info(`sealed the outputs of ${sealedNow} services stored in clear by an earlier version`);
  // After the root key check: keys an earlier version derived from the root key are stored as they were.
  // One audit service, built here, for the routes and for housekeeping.
  const audit = await openAudit(database.db, rootKey, new LocalKeyProvider(rootKey));
  return { rootKey, audit };
}

/**
 * Hourly: audit retention (idempotent under the chain lock, so every instance may run it)
 * and, with COFFER_CHECKPOINT_DIR, a signed checkpoint per organization written outside
 * the database (SPEC §6) for `POST …/audit-events/verify` later.
 */
function startHousekeeping(config: Config, database: DatabaseHandle, audit: AuditService, log: Logger) {
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

/** `npm start` and `coffer server`: configured from the environment, logging to stdout, until SIGTERM/SIGINT. */
export async function serveFromEnvironment(options: ServeOptions = {}): Promise<void> {
  const config = loadConfig();
  const { log, flush } = createServerLogger(config.logLevel);
  closeOnSignals(await runServer(config, log, options), log, { timeoutSeconds: config.shutdownTimeoutSeconds, flush });
}

export interface ShutdownOptions {
  /** COFFER_SHUTDOWN_TIMEOUT: the process exits by then, whatever is still pending. */
  timeoutSeconds: number;
  /** Waits (at most the given time) for the log to be written out. */
  flush?: (timeoutMs: number) => Promise<boolean>;
}

/**
 * Closes the server on SIGINT/SIGTERM and exits. Every step shares one deadline: past it the
 * process exits anyway (code 1), saying what was still pending, so a stuck connection, a
 * database that does not answer or a stdout nobody reads can never keep it alive. A second
 * signal exits at once.
 */
export function closeOnSignals(server: RunningServer, log: Pick<Logger, 'info' | 'error'>, options: ShutdownOptions): void {
  let closing = false;
  let step = () => server.closing ?? 'the shutdown';
  const shutdown = (signal: string) => {
    if (closing) {
      exitSaying(`${signal} received again: exiting now, while waiting for ${step()}`, 1);
      return;
    }
    closing = true;
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    log.info(`${signal} received, shutting down (at most ${options.timeoutSeconds} s)`);
    setTimeout(() => {
      const message = `Shutdown did not finish within ${options.timeoutSeconds} s (COFFER_SHUTDOWN_TIMEOUT): exiting anyway while waiting for ${step()}`;
      log.error(message);
      exitSaying(message, 1);
    }, options.timeoutSeconds * 1000);
    server.close().then(
      async () => {
        log.info('shut down');
        step = () => 'the log to be written to stdout (nobody is reading it)';
        // Ends before the deadline, so a stalled stdout costs its lines, not the exit code.
        const flushed = (await options.flush?.(Math.max(0, deadline - Date.now() - 500))) ?? true;
        if (flushed) process.exit(0);
        else exitSaying('shut down, but stdout did not take the last log lines (is anything reading it?)', 0);
      },
      (error: unknown) => {
        const message = `Shutdown failed while waiting for ${step()}: ${error instanceof Error ? error.message : String(error)}`;
        log.error(message);
        exitSaying(message, 1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/** Says why on stderr, then exits even if stderr does not take the message (nobody reads it either). */
function exitSaying(message: string, code: number): void {
  process.stderr.write(`coffer: ${message}\n`, () => process.exit(code));
  setTimeout(() => process.exit(code), 200);
}
