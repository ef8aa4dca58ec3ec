import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../../kernel/db/errors.js';
import type { Database, Service, ServiceKind } from '../../kernel/db/schema.js';
import { conflict } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { visiblePage } from '../../kernel/http/pagination.js';
import { createServicesRepo, type ServiceChanges } from './repo.js';
import { toServiceView } from './schemas.js';

export function createServicesService(deps: { db: Kysely<Database> }) {
  const repo = createServicesRepo(deps.db);
  const slugTaken = (slug: string) =>
    conflict(`A service with slug "${slug}" already exists in this environment`, { field: 'slug' });

  return {
    list(access: RequestAccess, cursor: string | undefined, limit: number) {
      const { organization, project, environment } = access.scope;
      return visiblePage({
        cursor,
        limit,
        fetch: (after, count) => repo.list(environment!.id, after, count),
        key: (service) => service.slug,
        visible: (service) =>
          access.can('service:read', { kind: 'service', organization, project: project!, environment: environment!, service }),
        shape: toServiceView,
      });
    },

    async create(access: RequestAccess, input: { slug: string; name?: string; kind: ServiceKind; outputs?: Record<string, string> }) {
      try {
        return await repo.insert({
          environment_id: access.scope.environment!.id,
          slug: input.slug,
          name: input.name ?? input.slug,
          kind: input.kind,
          outputs: input.outputs ?? {},
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw slugTaken(input.slug);
        throw error;
      }
    },

    async update(service: Service, changes: ServiceChanges) {
      try {
        return await repo.update(service.id, changes);
      } catch (error) {
        if (isUniqueViolation(error)) throw slugTaken(changes.slug ?? service.slug);
        throw error;
      }
    },

    delete: (service: Service) => repo.delete(service.id),
  };
}

export type ServicesService = ReturnType<typeof createServicesService>;
