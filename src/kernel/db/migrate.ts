import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as foundation from './migrations/0001_foundation.js';
import * as customRoles from './migrations/0002_custom_roles.js';
import * as apiTokens from './migrations/0003_api_tokens.js';
import * as audit from './migrations/0004_audit.js';
import * as settings from './migrations/0005_settings.js';
import * as variables from './migrations/0006_variables.js';
import * as auditKeySets from './migrations/0007_audit_key_sets.js';
import * as sealedOutputs from './migrations/0008_sealed_outputs.js';
import * as auditKeys from './migrations/0009_audit_keys.js';
import * as rateLimits from './migrations/0010_rate_limits.js';
import * as revokedApiTokens from './migrations/0011_revoked_api_tokens.js';
import * as sso from './migrations/0013_sso.js';
import * as clientManagedKeys from './migrations/0014_client_managed_keys.js';
import * as ssoDomainsRoles from './migrations/0016_sso_domains_roles.js';
import * as webhooks from './migrations/0015_webhooks.js';
import * as ssoSaml from './migrations/0017_sso_saml.js';
import * as ssoIdentities from './migrations/0018_sso_identities.js';

/**
 * Every migration, in order. One list for PGlite and PostgreSQL alike: the embedded
 * database is PostgreSQL too, so there is a single dialect and a single history.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0002_custom_roles': customRoles,
  '0003_api_tokens': apiTokens,
  '0004_audit': audit,
  '0005_settings': settings,
  '0006_variables': variables,
  '0007_audit_key_sets': auditKeySets,
  '0008_sealed_outputs': sealedOutputs,
  '0009_audit_keys': auditKeys,
  '0010_rate_limits': rateLimits,
  '0011_revoked_api_tokens': revokedApiTokens,
  '0013_sso': sso,
  '0014_client_managed_keys': clientManagedKeys,
  '0015_webhooks': webhooks,
  '0016_sso_domains_roles': ssoDomainsRoles,
  '0017_sso_saml': ssoSaml,
  '0018_sso_identities': ssoIdentities,
};

/** This version's migrations, oldest first. */
export const migrationNames = (): string[] => Object.keys(MIGRATIONS);

/**
 * Each migration runs inside a savepoint, so a failing one leaves the surrounding transaction
 * usable: Kysely releases its migration lock after the failure, and only then do we roll
 * everything back.
 */
const provider: MigrationProvider = {
  getMigrations: async () =>
    Object.fromEntries(
      Object.entries(MIGRATIONS).map(([name, migration]) => [
        name,
        {
          async up(db) {
            await sql`savepoint coffer_migration`.execute(db);
            try {
              await migration.up(db);
            } catch (error) {
              await sql`rollback to savepoint coffer_migration`.execute(db);
              throw error;
            }
            await sql`release savepoint coffer_migration`.execute(db);
          },
        } satisfies Migration,
      ]),
    ),
};

/** Whether the database has exactly this version's migrations (not a newer version's either: the migrator then reports that). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the migrator works on any schema
async function allApplied(db: Kysely<any>): Promise<boolean> {
  const table = await sql<{ present: boolean }>`select to_regclass('kysely_migration') is not null as present`.execute(db);
  if (!table.rows[0]?.present) return false;
  const applied = new Set((await sql<{ name: string }>`select name from kysely_migration`.execute(db)).rows.map((row) => row.name));
  return applied.size === Object.keys(MIGRATIONS).length && Object.keys(MIGRATIONS).every((name) => applied.has(name));
}

/** Serialises concurrent starts: the second waits, then finds the first one's tables. */
const MIGRATION_LOCK = 0x636f66666572; // "coffer"

/**
 * Applies pending migrations, all of them in one transaction with the migration bookkeeping
 * tables: a failure (a database that is not Coffer's, a lost connection) leaves nothing
 * behind. Returns the names applied. Errors name the failing migration and `where` (the
 * database as describeDatabase says it: host and database, never a password).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the migrator works on any schema
export async function migrateToLatest(db: Kysely<any>, where?: string): Promise<string[]> {
  const on = where ? ` on ${where}` : '';
  try {
    // The usual start: everything applied. Two small queries instead of the migrator, which
    // introspects every table to find its own.
    if (await allApplied(db)) return [];
    return await db.connection().execute(async (connection) => {
      await sql`begin`.execute(connection);
      try {
        await sql`select pg_advisory_xact_lock(${sql.lit(MIGRATION_LOCK)})`.execute(connection);
        const migrator = new Migrator({ db: connection, provider, disableTransactions: true });
        const { error, results = [] } = await migrator.migrateToLatest();
        if (error) {
          const failed = results.find((r) => r.status === 'Error');
          const cause = error instanceof Error ? error.message : String(error);
          throw new MigrationError(`Migration ${failed?.migrationName ?? '(unknown)'} failed${on}: ${cause}; nothing was applied`, error);
        }
        await sql`commit`.execute(connection);
        return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
      } catch (error) {
        await sql`rollback`.execute(connection).catch(() => {});
        throw error;
      }
    });
  } catch (error) {
    if (error instanceof MigrationError) throw error;
    // Connecting or the bookkeeping failed: say where, which the driver's message does not.
    const cause = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`Cannot migrate the database${on}: ${cause}`, error);
  }
}

export class MigrationError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'MigrationError';
  }
}
