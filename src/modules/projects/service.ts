import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../../kernel/db/errors.js';
import type { Database, Project } from '../../kernel/db/schema.js';
import { conflict } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { visiblePage } from '../../kernel/http/pagination.js';
import { createProjectsRepo } from './repo.js';
import { toProjectView } from './schemas.js';

export function createProjectsService(deps: { db: Kysely<Database> }) {
  const repo = createProjectsRepo(deps.db);
  const slugTaken = (slug: string) =>
    conflict(`A project with slug "${slug}" already exists in this organization`, { field: 'slug' });

  return {
    list(access: RequestAccess, cursor: string | undefined, limit: number) {
      const { organization } = access.scope;
      return visiblePage({
        cursor,
        limit,
        fetch: (after, count) => repo.list(organization.id, after, count),
        key: (project) => project.slug,
        visible: (project) => access.can('project:read', { kind: 'project', organization, project }),
        shape: toProjectView,
      });
    },

    async create(access: RequestAccess, input: { slug: string; name?: string; description?: string }) {
      try {
        return await repo.insert({
          organization_id: access.scope.organization.id,
          slug: input.slug,
          name: input.name ?? input.slug,
          description: input.description ?? '',
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw slugTaken(input.slug);
        throw error;
      }
    },

    async update(project: Project, changes: { slug?: string; name?: string; description?: string }) {
      try {
        return await repo.update(project.id, changes);
      } catch (error) {
        if (isUniqueViolation(error)) throw slugTaken(changes.slug ?? project.slug);
        throw error;
      }
    },

    /** Environments, services (and later variables) go with it in the statement's cascade. */
    delete: (project: Project) => repo.delete(project.id),
  };
}

export type ProjectsService = ReturnType<typeof createProjectsService>;
