import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';

/** Lookups that place a request in the hierarchy; every one is scoped by its parent's id. */
export function createScopeRepo(db: Kysely<Database>) {
  return {
    organizationBySlug: (slug: string) =>
      db.selectFrom('organizations').selectAll().where('slug', '=', slug).executeTakeFirst(),
    membership: (organizationId: string, userId: string) =>
      db
        .selectFrom('memberships')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('user_id', '=', userId)
        .executeTakeFirst(),
    cluster: (organizationId: string, id: string) =>
      db
        .selectFrom('clusters')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .executeTakeFirst(),
    projectBySlug: (organizationId: string, slug: string) =>
      db
        .selectFrom('projects')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('slug', '=', slug)
        .executeTakeFirst(),
    environmentBySlug: (projectId: string, slug: string) =>
      db
        .selectFrom('environments')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('slug', '=', slug)
        .executeTakeFirst(),
    serviceBySlug: (environmentId: string, slug: string) =>
      db
        .selectFrom('services')
        .selectAll()
        .where('environment_id', '=', environmentId)
        .where('slug', '=', slug)
        .executeTakeFirst(),
  };
}

export type ScopeRepo = ReturnType<typeof createScopeRepo>;
