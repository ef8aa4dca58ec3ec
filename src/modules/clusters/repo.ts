import type { Kysely } from 'kysely';
import { pageAfter } from '../../kernel/db/keyset.js';
import type { Database } from '../../kernel/db/schema.js';

/** Constraints whose violation the service answers in its own words (see translateConstraints). */
export const CLUSTER_CONSTRAINTS = {
  name: 'clusters_organization_id_name_key',
  /** environments.cluster_id: a cluster still hosting environments cannot go. */
  hosted: 'environments_cluster_id_fkey',
} as const;

export function createClustersRepo(db: Kysely<Database>) {
  return {
    list: (organizationId: string, afterName: string | undefined, limit: number) =>
      pageAfter(db.selectFrom('clusters').selectAll().where('organization_id', '=', organizationId), 'name', afterName, limit),
    insert: (cluster: { organization_id: string; name: string; region: string | null }) =>
      db.insertInto('clusters').values(cluster).returningAll().executeTakeFirstOrThrow(),
    update: (id: string, changes: { name?: string; region?: string | null }) =>
      db.updateTable('clusters').set({ ...changes, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
    delete: (id: string) => db.deleteFrom('clusters').where('id', '=', id).execute(),
  };
}
