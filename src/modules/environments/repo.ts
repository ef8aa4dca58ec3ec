import type { Kysely } from 'kysely';
import { pageAfter } from '../../kernel/db/keyset.js';
import type { Database, EnvironmentType } from '../../kernel/db/schema.js';

/** Constraints whose violation the service answers in its own words (see translateConstraints). */
export const ENVIRONMENT_CONSTRAINTS = { slug: 'environments_project_id_slug_key' } as const;

export interface EnvironmentChanges {
  slug?: string;
  name?: string;
  type?: EnvironmentType;
  cluster_id?: string | null;
}

export function createEnvironmentsRepo(db: Kysely<Database>) {
  return {
    list: (projectId: string, afterSlug: string | undefined, limit: number) =>
      pageAfter(db.selectFrom('environments').selectAll().where('project_id', '=', projectId), 'slug', afterSlug, limit),
    cluster: (organizationId: string, id: string) =>
      db.selectFrom('clusters').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst(),
    insert: (environment: { project_id: string; slug: string; name: string; type: EnvironmentType; cluster_id: string | null }) =>
      db.insertInto('environments').values(environment).returningAll().executeTakeFirstOrThrow(),
    update: (id: string, changes: EnvironmentChanges) =>
      db.updateTable('environments').set({ ...changes, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
    delete: (id: string) => db.deleteFrom('environments').where('id', '=', id).execute(),
  };
}
