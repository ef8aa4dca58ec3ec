import type { Kysely } from 'kysely';
import { isForeignKeyViolation, isUniqueViolation } from '../../kernel/db/errors.js';
import type { Cluster, Database } from '../../kernel/db/schema.js';
import { conflict } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { visiblePage } from '../../kernel/http/pagination.js';
import { toClusterView } from './schemas.js';
import { createClustersRepo } from './repo.js';

export function createClustersService(deps: { db: Kysely<Database> }) {
  const repo = createClustersRepo(deps.db);
  const nameTaken = (name: string) =>
    conflict(`A cluster named "${name}" already exists in this organization`, { field: 'name' });

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
        return await repo.insert({ organization_id: access.scope.organization.id, name: input.name, region: input.region ?? null });
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(input.name);
        throw error;
      }
    },

    async update(cluster: Cluster, changes: { name?: string; region?: string | null }) {
      try {
        return await repo.update(cluster.id, changes);
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(changes.name ?? cluster.name);
        throw error;
      }
    },

    async delete(cluster: Cluster) {
      try {
        await repo.delete(cluster.id);
      } catch (error) {
        if (isForeignKeyViolation(error)) {
          throw conflict(`Cluster "${cluster.name}" still hosts environments; move or delete them first`);
        }
        throw error;
      }
    },
  };
}

export type ClustersService = ReturnType<typeof createClustersService>;
