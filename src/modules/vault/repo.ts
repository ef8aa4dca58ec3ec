import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';

/** The places a path's resolution reads variables from (as variables/repo.ts `reaching`, deleted ones included). */
export interface PathIds {
  organizationId: string;
  projectId: string;
  environmentId: string;
  serviceId: string | null;
  memberId: string | null;
}

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
        .where('variables.organization_id', '=', ids.organizationId)
        .where((eb) =>
          eb.or([
            eb('variables.scope', '=', 'organization'),
            eb.and([eb('variables.scope', '=', 'project'), eb('variables.project_id', '=', ids.projectId)]),
            eb.and([eb('variables.scope', '=', 'environment'), eb('variables.environment_id', '=', ids.environmentId)]),
            ...(ids.serviceId === null ? [] : [eb.and([eb('variables.scope', '=', 'service'), eb('variables.service_id', '=', ids.serviceId)])]),
          ]),
        )
        .where((eb) =>
          ids.memberId === null
            ? eb('variables.assignee_user_id', 'is', null)
            : eb.or([eb('variables.assignee_user_id', 'is', null), eb('variables.assignee_user_id', '=', ids.memberId)]),
        )
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
