import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../../kernel/db/errors.js';
import type { Database, Service, ServiceKind } from '../../kernel/db/schema.js';
import { conflict } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { visiblePage } from '../../kernel/http/pagination.js';
import { createServicesRepo, type ServiceChanges } from './repo.js';
import { toServiceView } from './schemas.js';
import { changedFields, withAudit } from '../audit/recorder.js';

/** `changed` tells resolution caches that the organization's built-in variables changed. */
export function createServicesService(deps: { db: Kysely<Database>; changed?: (organizationId: string) => Promise<void> }) {
  const changed = (access: RequestAccess) => deps.changed?.(access.scope.organization.id);
  const repo = createServicesRepo(deps.db);
  // Output values may be credentials: the log keeps which outputs exist, never their values.
  const fields = (s: Service) => ({ slug: s.slug, name: s.name, kind: s.kind, outputs: Object.keys(s.outputs).sort() });
  const pathOf = (access: RequestAccess, s: Service) => `${access.scope.project!.slug}/${access.scope.environment!.slug}/${s.slug}`;
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
        return await withAudit(deps.db, access.audit, async (tx, note) => {
          const service = await createServicesRepo(tx).insert({
            environment_id: access.scope.environment!.id,
            slug: input.slug,
            name: input.name ?? input.slug,
            kind: input.kind,
            outputs: input.outputs ?? {},
          });
          const name = pathOf(access, service);
          note({ event_type: 'CREATE', target_type: 'service', target_id: service.id, target_name: name, change: `Created ${service.kind} service ${name}`, details: { after: fields(service) } });
          return service;
        }).then(async (service) => (await changed(access), service));
      } catch (error) {
        if (isUniqueViolation(error)) throw slugTaken(input.slug);
        throw error;
      }
    },

    async update(access: RequestAccess, service: Service, changes: ServiceChanges) {
      try {
        return await withAudit(deps.db, access.audit, async (tx, note) => {
          const updated = await createServicesRepo(tx).update(service.id, changes);
          const name = pathOf(access, updated);
          note({ event_type: 'UPDATE', target_type: 'service', target_id: service.id, target_name: name, change: `Updated service ${name}`, details: changedFields(fields(service), fields(updated)) });
          return updated;
        }).then(async (updated) => (await changed(access), updated));
      } catch (error) {
        if (isUniqueViolation(error)) throw slugTaken(changes.slug ?? service.slug);
        throw error;
      }
    },

    delete: (access: RequestAccess, service: Service) =>
      withAudit(deps.db, access.audit, async (tx, note) => {
        await createServicesRepo(tx).delete(service.id);
        const name = pathOf(access, service);
        note({ event_type: 'DELETE', target_type: 'service', target_id: service.id, target_name: name, change: `Deleted service ${name}`, details: { before: fields(service) } });
      }).then(() => changed(access)),
  };
}

export type ServicesService = ReturnType<typeof createServicesService>;
