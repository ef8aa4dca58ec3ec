import type { Kysely } from 'kysely';
import { translateConstraint } from '../../kernel/db/errors.js';
import type { Cluster, Database } from '../../kernel/db/schema.js';
import { conflict } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { visiblePage } from '../../kernel/http/pagination.js';
import { changedFields, withAudit } from '../audit/recorder.js';
import { toClusterView } from './schemas.js';
import { CLUSTER_CONSTRAINTS, createClustersRepo } from './repo.js';

export function createClustersService(deps: { db: Kysely<Database> }) {
  const repo = createClustersRepo(deps.db);
  const nameTaken = (name: string) =>
    conflict(`A cluster named "${name}" already exists in this organization`, { field: 'name' });
  const fields = (c: Cluster) => ({ name: c.name, region: c.region });

  return {
    list(access: RequestAccess, cursor: string | undefined, limit: number) {
      const { organization } = access.scope;
      return visiblePage({
        cursor,
        limit,
        fetch: (after, count) => repo.list(organization.id, after, count),
        key: (cluster) => cluster.name,
        visible: (cluster) => access.can('cluster:read', { kind: 'cluster', organization, cluster }),
        shape: toClusterView,
      });
    },

    async create(access: RequestAccess, input: { name: string; region?: string }) {
      try {
        return await withAudit(deps.db, access.audit, async (tx, note) => {
          const cluster = await createClustersRepo(tx).insert({
            organization_id: access.scope.organization.id,
            name: input.name,
            region: input.region ?? null,
          });
          note({ event_type: 'CREATE', target_type: 'cluster', target_id: cluster.id, target_name: cluster.name, change: `Created cluster ${cluster.name}`, details: { after: fields(cluster) } });
          return cluster;
        });
      } catch (error) {
        throw translateConstraint(error, { [CLUSTER_CONSTRAINTS.name]: () => nameTaken(input.name) });
      }
    },

    async update(access: RequestAccess, cluster: Cluster, changes: { name?: string; region?: string | null }) {
      try {
        return await withAudit(deps.db, access.audit, async (tx, note) => {
          const updated = await createClustersRepo(tx).update(cluster.id, changes);
          note({ event_type: 'UPDATE', target_type: 'cluster', target_id: cluster.id, target_name: updated.name, change: `Updated cluster ${updated.name}`, details: changedFields(fields(cluster), fields(updated)) });
          return updated;
        });
      } catch (error) {
        throw translateConstraint(error, { [CLUSTER_CONSTRAINTS.name]: () => nameTaken(changes.name ?? cluster.name) });
      }
    },

    async delete(access: RequestAccess, cluster: Cluster) {
      try {
        await withAudit(deps.db, access.audit, async (tx, note) => {
          await createClustersRepo(tx).delete(cluster.id);
          note({ event_type: 'DELETE', target_type: 'cluster', target_id: cluster.id, target_name: cluster.name, change: `Deleted cluster ${cluster.name}`, details: { before: fields(cluster) } });
        });
      } catch (error) {
        throw translateConstraint(error, {
          [CLUSTER_CONSTRAINTS.hosted]: () => conflict(`Cluster "${cluster.name}" still hosts environments; move or delete them first`),
        });
      }
    },
  };
}

export type ClustersService = ReturnType<typeof createClustersService>;
