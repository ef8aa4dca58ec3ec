import type { Kysely } from 'kysely';
import { translateConstraint } from '../../kernel/db/errors.js';
import type { Database, Environment, EnvironmentType } from '../../kernel/db/schema.js';
import { AppError, conflict, invalid } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { visiblePage } from '../../kernel/http/pagination.js';
import { ENVIRONMENT_CONSTRAINTS, createEnvironmentsRepo, type EnvironmentChanges } from './repo.js';
import { toEnvironmentView } from './schemas.js';
import { changedFields, withAudit } from '../audit/recorder.js';

/**
 * `hierarchyChanged` runs after an edit or deletion commits and before the caller answers:
 * cached token placements hold the old rows, and every instance drops them first.
 */
export function createEnvironmentsService(deps: { db: Kysely<Database>; hierarchyChanged: () => Promise<void> }) {
  const repo = createEnvironmentsRepo(deps.db);
  const fields = (e: Environment) => ({ slug: e.slug, name: e.name, type: e.type, cluster_id: e.cluster_id });
  const slugTaken = (slug: string) =>
    conflict(`An environment with slug "${slug}" already exists in this project`, { field: 'slug' });

  /**
   * SPEC §2.3: placing an environment needs the action for its *type* in the project,
   * and cluster:deploy on its cluster when it has one.
   */
  async function requirePlacement(access: RequestAccess<'project'>, action: 'environment:create' | 'environment:write', target: Environment) {
    const { organization, project } = access.scope;
    // The target placement does not exist yet: the project is visible, so refusing is a 403.
    if (!access.can(action, { kind: 'environment', organization, project, environment: target })) {
      throw new AppError('FORBIDDEN', `Missing permission ${action} for ${target.type} environments of this project`, { action });
    }
    if (target.cluster_id !== null) {
      const cluster = await repo.cluster(organization.id, target.cluster_id);
      // A cluster the principal may not see is reported like one that does not exist.
      if (!cluster || !access.can('cluster:read', { kind: 'cluster', organization, cluster })) {
        throw invalid('body.cluster_id', 'no such cluster in this organization');
      }
      access.require('cluster:deploy', { kind: 'cluster', organization, cluster });
    }
  }

  return {
    list(access: RequestAccess<'project'>, cursor: string | undefined, limit: number) {
      const { organization, project } = access.scope;
      return visiblePage({
        cursor,
        limit,
        fetch: (after, count) => repo.list(project.id, after, count),
        key: (environment) => environment.slug,
        visible: (environment) => access.can('environment:read', { kind: 'environment', organization, project, environment }),
        shape: toEnvironmentView,
      });
    },

    async create(access: RequestAccess<'project'>, input: { slug: string; name?: string; type: EnvironmentType; cluster_id?: string | null }) {
      const project = access.scope.project;
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
        return await withAudit(deps.db, access.audit, async (tx, note) => {
          const environment = await createEnvironmentsRepo(tx).insert(draft);
          note({ event_type: 'CREATE', target_type: 'environment', target_id: environment.id, target_name: `${project.slug}/${environment.slug}`, change: `Created ${environment.type} environment ${project.slug}/${environment.slug}`, details: { after: fields(environment) } });
          return environment;
        });
      } catch (error) {
        throw translateConstraint(error, { [ENVIRONMENT_CONSTRAINTS.slug]: () => slugTaken(input.slug) });
      }
    },

    async update(access: RequestAccess<'project'>, environment: Environment, changes: EnvironmentChanges) {
      // Moving to another type or cluster needs the same rights there as creating it there.
      if (changes.type !== undefined || changes.cluster_id !== undefined) {
        await requirePlacement(access, 'environment:write', { ...environment, ...changes });
      }
      const project = access.scope.project;
      try {
        return await withAudit(deps.db, access.audit, async (tx, note) => {
          const updated = await createEnvironmentsRepo(tx).update(environment.id, changes);
          note({ event_type: 'UPDATE', target_type: 'environment', target_id: environment.id, target_name: `${project.slug}/${updated.slug}`, change: `Updated environment ${project.slug}/${updated.slug}`, details: changedFields(fields(environment), fields(updated)) });
          return updated;
        }).then(async (updated) => (await deps.hierarchyChanged(), updated));
      } catch (error) {
        throw translateConstraint(error, { [ENVIRONMENT_CONSTRAINTS.slug]: () => slugTaken(changes.slug ?? environment.slug) });
      }
    },

    /** Its services (and later variables) go with it in the statement's cascade. */
    delete: (access: RequestAccess<'project'>, environment: Environment) =>
      withAudit(deps.db, access.audit, async (tx, note) => {
        const name = `${access.scope.project.slug}/${environment.slug}`;
        await createEnvironmentsRepo(tx).delete(environment.id);
        note({ event_type: 'DELETE', target_type: 'environment', target_id: environment.id, target_name: name, change: `Deleted environment ${name} and its services`, details: { before: fields(environment) } });
      }).then(deps.hierarchyChanged),
  };
}

export type EnvironmentsService = ReturnType<typeof createEnvironmentsService>;
