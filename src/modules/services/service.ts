import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { translateConstraint } from '../../kernel/db/errors.js';
import type { Database, Service, ServiceKind } from '../../kernel/db/schema.js';
import { conflict } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { visiblePage } from '../../kernel/http/pagination.js';
import { SERVICE_CONSTRAINTS, createServicesRepo, type ServiceChanges } from './repo.js';
import type { ServiceOutputs } from './outputs.js';
import { toServiceView } from './schemas.js';
import { changedFields, withAudit } from '../audit/recorder.js';

/**
 * `changed` tells resolution caches that the organization's built-in variables changed;
 * `hierarchyChanged` runs after an edit or deletion commits and before the caller answers:
 * cached token placements hold the old rows, and every instance drops them first.
 */
export function createServicesService(deps: {
  db: Kysely<Database>;
  outputs: ServiceOutputs;
  changed?: (organizationId: string) => Promise<void>;
  hierarchyChanged: () => Promise<void>;
}) {
  const changed = (access: RequestAccess) => deps.changed?.(access.scope.organization.id);
  const placeOf = (access: RequestAccess<'environment'>) => ({ organizationId: access.scope.organization.id, projectId: access.scope.project.id });
  const opened = async (service: Service) => (await deps.outputs.open(deps.db, [service]))[0]!;
  const repo = createServicesRepo(deps.db);
  // Output values may be credentials: the log keeps which outputs exist, never their values.
  const fields = (s: Service) => ({ slug: s.slug, name: s.name, kind: s.kind, outputs: Object.keys(s.outputs).sort() });
  const pathOf = (access: RequestAccess<'environment'>, s: Service) => `${access.scope.project.slug}/${access.scope.environment.slug}/${s.slug}`;
  const slugTaken = (slug: string) =>
    conflict(`A service with slug "${slug}" already exists in this environment`, { field: 'slug' });
  /** What this caller is shown of a service: credentials only where it may read them. */
  const readsCredentials = (access: RequestAccess<'environment'>, service: Service) => {
    const { organization, project, environment } = access.scope;
    return access.can('database:read_credentials', { kind: 'service', organization, project, environment, service });
  };
  const view = (access: RequestAccess<'environment'>, service: Service) => toServiceView(service, readsCredentials(access, service));

  return {
    list(access: RequestAccess<'environment'>, cursor: string | undefined, limit: number) {
      const { organization, project, environment } = access.scope;
      return visiblePage({
        cursor,
        limit,
        fetch: async (after, count) => deps.outputs.open(deps.db, await repo.list(environment.id, after, count)),
        key: (service) => service.slug,
        visible: (service) =>
          access.can('service:read', { kind: 'service', organization, project, environment, service }),
        shape: (service) => view(access, service),
      });
    },

    async create(access: RequestAccess<'environment'>, input: { slug: string; name?: string; kind: ServiceKind; outputs?: Record<string, string> }) {
      try {
        return await withAudit(deps.db, access.audit, async (tx, note) => {
          const id = randomUUID();
          const outputs = input.outputs ?? {};
          const stored = await createServicesRepo(tx).insert({
            id,
            environment_id: access.scope.environment.id,
            slug: input.slug,
            name: input.name ?? input.slug,
            kind: input.kind,
            ...(await deps.outputs.seal(tx, placeOf(access), id, outputs)),
          });
          const service = { ...stored, outputs };
          const name = pathOf(access, service);
          note({ event_type: 'CREATE', target_type: 'service', target_id: service.id, target_name: name, change: `Created ${service.kind} service ${name}`, details: { after: fields(service) } });
          return service;
        }).then(async (service) => (await changed(access), service));
      } catch (error) {
        throw translateConstraint(error, { [SERVICE_CONSTRAINTS.slug]: () => slugTaken(input.slug) });
      }
    },

    /** The service with its outputs in clear. */
    opened,

    view,

    /** Whether `view` shows this caller the service's credentials (a database's user) in clear. */
    readsCredentials,

    async update(access: RequestAccess<'environment'>, sealed: Service, { outputs, ...changes }: ServiceChanges) {
      const service = await opened(sealed);
      try {
        return await withAudit(deps.db, access.audit, async (tx, note) => {
          const stored = await createServicesRepo(tx).update(service.id, {
            ...changes,
            ...(outputs ? await deps.outputs.seal(tx, placeOf(access), service.id, outputs) : {}),
          });
          const updated = { ...stored, outputs: outputs ?? service.outputs };
          const name = pathOf(access, updated);
          note({ event_type: 'UPDATE', target_type: 'service', target_id: service.id, target_name: name, change: `Updated service ${name}`, details: changedFields(fields(service), fields(updated)) });
          return updated;
        }).then(async (updated) => (await changed(access), await deps.hierarchyChanged(), updated));
      } catch (error) {
        throw translateConstraint(error, { [SERVICE_CONSTRAINTS.slug]: () => slugTaken(changes.slug ?? service.slug) });
      }
    },

    delete: async (access: RequestAccess<'environment'>, sealed: Service) => {
      const service = await opened(sealed);
      return withAudit(deps.db, access.audit, async (tx, note) => {
        await createServicesRepo(tx).delete(service.id);
        const name = pathOf(access, service);
        note({ event_type: 'DELETE', target_type: 'service', target_id: service.id, target_name: name, change: `Deleted service ${name}`, details: { before: fields(service) } });
      }).then(async () => (await changed(access), await deps.hierarchyChanged()));
    },
  };
}

export type ServicesService = ReturnType<typeof createServicesService>;
