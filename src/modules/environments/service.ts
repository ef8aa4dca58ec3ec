import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../../kernel/db/errors.js';
import type { Database, Environment, EnvironmentType } from '../../kernel/db/schema.js';
import { conflict, invalid } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { visiblePage } from '../../kernel/http/pagination.js';
import { createEnvironmentsRepo, type EnvironmentChanges } from './repo.js';
import { toEnvironmentView } from './schemas.js';

export function createEnvironmentsService(deps: { db: Kysely<Database> }) {
  const repo = createEnvironmentsRepo(deps.db);
  const slugTaken = (slug: string) =>
    conflict(`An environment with slug "${slug}" already exists in this project`, { field: 'slug' });

  /**
   * SPEC §2.3: placing an environment needs the action for its *type* in the project,
   * and cluster:deploy on its cluster when it has one.
   */
  async function requirePlacement(access: RequestAccess, action: 'environment:create' | 'environment:write', target: Environment) {
    const { organization, project } = access.scope;
    access.require(action, { kind: 'environment', organization, project: project!, environment: target });
    if (target.cluster_id !== null) {
      const cluster = await repo.cluster(organization.id, target.cluster_id);
      if (!cluster) throw invalid('body.cluster_id', 'no such cluster in this organization');
      access.require('cluster:deploy', { kind: 'cluster', organization, cluster });
    }
  }

  return {
    list(access: RequestAccess, cursor: string | undefined, limit: number) {
      const { organization, project } = access.scope;
      return visiblePage({
        cursor,
        limit,
        fetch: (after, count) => repo.list(project!.id, after, count),
        key: (environment) => environment.slug,
        visible: (environment) => access.can('environment:read', { kind: 'environment', organization, project: project!, environment }),
        shape: toEnvironmentView,
      });
    },

    async create(access: RequestAccess, input: { slug: string; name?: string; type: EnvironmentType; cluster_id?: string | null }) {
      const project = access.scope.project!;
      const draft = {
        project_id: project.id,
        slug: input.slug,
        name: input.name ?? input.slug,
        type: input.type,
        cluster_id: input.cluster_id ?? null,
      };
      const now = new Date();
      await requirePlacement(access, 'environment:create', { ...draft, id: '', created_at: now, updated_at: now });
      try {
        return await repo.insert(draft);
      } catch (error) {
        if (isUniqueViolation(error)) throw slugTaken(input.slug);
        throw error;
      }
    },

    async update(access: RequestAccess, environment: Environment, changes: EnvironmentChanges) {
      // Moving to another type or cluster needs the same rights there as creating it there.
      if (changes.type !== undefined || changes.cluster_id !== undefined) {
        await requirePlacement(access, 'environment:write', { ...environment, ...changes });
      }
      try {
        return await repo.update(environment.id, changes);
      } catch (error) {
        if (isUniqueViolation(error)) throw slugTaken(changes.slug ?? environment.slug);
        throw error;
      }
    },

    /** Its services (and later variables) go with it in the statement's cascade. */
    delete: (environment: Environment) => repo.delete(environment.id),
  };
}

export type EnvironmentsService = ReturnType<typeof createEnvironmentsService>;
