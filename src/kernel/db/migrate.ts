import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as foundation from './migrations/0001_foundation.js';
import * as customRoles from './migrations/0002_custom_roles.js';
import * as apiTokens from './migrations/0003_api_tokens.js';
import * as audit from './migrations/0004_audit.js';
import * as settings from './migrations/0005_settings.js';
import * as variables from './migrations/0006_variables.js';
import * as auditKeySets from './migrations/0007_audit_key_sets.js';
import * as sealedOutputs from './migrations/0008_sealed_outputs.js';
import * as rateLimits from './migrations/0010_rate_limits.js';

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
  '0010_rate_limits': rateLimits,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Applies pending migrations; returns the names applied. Throws with the failing one. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the migrator works on any schema
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results = [] } = await migrator.migrateToLatest();
  const failed = results.find((r) => r.status === 'Error');
  if (error) {
    const cause = error instanceof Error ? error.message : String(error);
    throw new Error(`Migration ${failed?.migrationName ?? '(unknown)'} failed: ${cause}`, { cause: error });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
