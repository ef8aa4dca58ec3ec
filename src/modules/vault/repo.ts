import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import { reachingPath, type PathIds } from '../variables/repo.js';

export function createVaultRepo(db: Kysely<Database>) {
  return {
    /**
     * How many changes (create, update, delete, rollback) variables that reach the path have had,
     * and when the last was: counts and times only, never values.
     */
    changes(ids: PathIds) {
      return db
        .selectFrom('variable_versions')
        .innerJoin('variables', 'variables.id', 'variable_versions.variable_id')
        .select((eb) => [eb.fn.countAll<string | number>().as('count'), eb.fn.max('variable_versions.created_at').as('last')])
        .where((eb) => reachingPath(eb, ids))
        .executeTakeFirstOrThrow();
    },

    token: (id: string) => db.selectFrom('api_tokens').select(['created_at', 'expires_at']).where('id', '=', id).executeTakeFirst(),

    organizationSlug: (id: string) => db.selectFrom('organizations').select('slug').where('id', '=', id).executeTakeFirst(),

    organizationsOf: (userId: string) =>
      db
        .selectFrom('memberships')
        .innerJoin('organizations', 'organizations.id', 'memberships.organization_id')
        .select('organizations.slug')
        .where('memberships.user_id', '=', userId)
        .orderBy('organizations.slug')
        .execute(),
  };
}

export type VaultRepo = ReturnType<typeof createVaultRepo>;
