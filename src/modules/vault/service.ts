import type { Kysely } from 'kysely';
import type { Scopes } from '../authz/index.js';
import type { Database } from '../../kernel/db/schema.js';
import { AppError } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import type { Principal } from '../../kernel/principal.js';
import { resourceOf } from '../../kernel/authz/scope.js';
import { createEnvironmentsService } from '../environments/service.js';
import { createProjectsService } from '../projects/service.js';
import type { ProjectListing } from '../projects/list-cache.js';
import { createServicesService } from '../services/service.js';
import type { ServiceOutputs } from '../services/outputs.js';
import type { Resolver } from '../variables/resolver.js';
import type { Invalidation } from '../../kernel/cache/invalidation.js';
import { ResolutionCache } from '../variables/resolution-cache.js';
import { createVaultRepo } from './repo.js';

/** Coffer has one KV v2 mount per organization, named by its slug. */
export function kvMount(slug: string) {
  return {
    type: 'kv',
    description: `Coffer organization ${slug} (read-only; write with the Coffer API or CLI)`,
    options: { version: '2' },
    path: `${slug}/`,
    local: false,
    seal_wrap: false,
    external_entropy_access: false,
    config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
  };
}

const noop = async () => {};

/** Reads every page of a Coffer list, filtered to what the caller may see by the owning module. */
async function all<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor: string | null }>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const next = await page(cursor);
    items.push(...next.items);
    cursor = next.next_cursor ?? undefined;
  } while (cursor !== undefined);
  return items;
}

/**
 * Vault's KV v2 read API over Coffer's own rules: the guard has already placed and authorized
 * the request (as for `…/resolve`), values come from the variables module's resolver (same
 * precedence, references, member rules, cache and READ_SECRET event), lists from the modules
 * that own projects, environments and services (same visibility).
 */
export function createVaultService(deps: { db: Kysely<Database>; resolver: Resolver; projectListing: ProjectListing; outputs: ServiceOutputs; scopes: Pick<Scopes, 'resolveScope'>; invalidation: Invalidation }) {
  const repo = createVaultRepo(deps.db);
  // Path versions change only when variables do: dropped on the same signal as resolved sets.
  const versions = new ResolutionCache<{ count: number; last: Date | null }>(deps.invalidation);
  const projects = createProjectsService({ db: deps.db, hierarchyChanged: noop, listing: deps.projectListing });
  const environments = createEnvironmentsService({ db: deps.db, hierarchyChanged: noop });
  const services = createServicesService({ db: deps.db, outputs: deps.outputs, hierarchyChanged: noop });

  /**
   * A path's Vault version: 1 is the path as created, and each change since to a variable that
   * reaches it (create, update, delete, rollback) adds one. Coffer keeps versions per variable,
   * not per resolved path, so only the current version can be read.
   */
  async function versionOf(access: RequestAccess) {
    const { organization, project, environment } = resourceOf(access.scope, 'environment');
    const { service } = access.scope;
    const memberId = access.principal.kind === 'user' ? access.principal.user.id : null;
    const key = `${environment.id}|${service?.id ?? ''}|${memberId ?? ''}`;
    let changes = versions.get(organization.id, key);
    if (!changes) {
      const generation = versions.begin(organization.id);
      const row = await repo.changes({ organizationId: organization.id, projectId: project.id, environmentId: environment.id, serviceId: service?.id ?? null, memberId });
      changes = { count: Number(row.count), last: row.last === null || row.last === undefined ? null : new Date(row.last) };
      versions.set(organization.id, key, generation, changes);
    }
    const created = (service ?? environment).created_at;
    const last = changes.last ?? created;
    return { version: changes.count + 1, created_time: new Date(last).toISOString(), path_created: new Date(created).toISOString() };
  }

  const pathOf = (access: RequestAccess) => {
    const { project, environment } = resourceOf(access.scope, 'environment');
    return `${project.slug}/${environment.slug}${access.scope.service ? `/${access.scope.service.slug}` : ''}`;
  };

  return {
    /**
     * KV v2 `GET data/<path>`: the resolved set, flat KEY → value (pg_service entries are not KV
     * pairs and are left out), as the resolver's cached JSON text: a warm read parses nothing.
     */
    async read(access: RequestAccess, requested: number | undefined) {
      const current = await versionOf(access);
      if (requested !== undefined && requested !== 0 && requested !== current.version) {
        throw new AppError(
          'NOT_FOUND',
          `Version ${requested} of ${pathOf(access)} cannot be read: Coffer keeps versions per variable, not per path, so only the current version (${current.version}) is served here; see GET /api/v1/orgs/{org}/…/variables/{id}/versions`,
        );
      }
      const rendered = await deps.resolver.resolve(access, { format: 'env-json' });
      return {
        data: rendered.body,
        metadata: { version: current.version, created_time: current.created_time, deletion_time: '', destroyed: false, custom_metadata: null },
      };
    },

    /** KV v2 `GET metadata/<path>` of a readable place: its current version only (see versionOf). */
    async metadata(access: RequestAccess) {
      const current = await versionOf(access);
      return {
        current_version: current.version,
        oldest_version: current.version,
        max_versions: 0,
        cas_required: false,
        delete_version_after: '0s',
        created_time: current.path_created,
        updated_time: current.created_time,
        custom_metadata: null,
        versions: { [String(current.version)]: { created_time: current.created_time, deletion_time: '', destroyed: false } },
      };
    },

    /** Projects as folders (`shop/`). */
    async listProjects(access: RequestAccess) {
      return (await all((cursor) => projects.list(access, cursor, 200))).map((project) => `${project.slug}/`);
    },

    /** Each environment is both a secret (its resolution) and a folder of services. */
    async listEnvironments(access: RequestAccess<'project'>) {
      return (await all((cursor) => environments.list(access, cursor, 200))).flatMap((environment) => [environment.slug, `${environment.slug}/`]);
    },

    async listServices(access: RequestAccess<'environment'>) {
      return (await all((cursor) => services.list(access, cursor, 200))).map((service) => service.slug);
    },

    /** `auth/token/lookup-self`: policies are the token's scopes; the token itself is never echoed. */
    async lookupSelf(principal: Principal, now = new Date()) {
      if (principal.kind === 'user') {
        return { accessor: principal.session.id, creation_time: 0, creation_ttl: 0, display_name: principal.user.email, entity_id: principal.user.id, expire_time: null, explicit_max_ttl: 0, id: '', meta: { kind: 'user-session' } as Record<string, string>, num_uses: 0, orphan: true, path: 'auth/coffer/login', policies: [], renewable: false, ttl: 0, type: 'service' };
      }
      const { token } = principal;
      const row = await repo.token(token.id);
      const organization = await repo.organizationSlug(token.organizationId);
      const created = row ? new Date(row.created_at) : now;
      const expires = row?.expires_at ? new Date(row.expires_at) : null;
      const meta: Record<string, string> = { organization: organization?.slug ?? '' };
      if (token.path.projectId) meta.project_id = token.path.projectId;
      if (token.path.environmentId) meta.environment_id = token.path.environmentId;
      if (token.path.serviceId) meta.service_id = token.path.serviceId;
      const ttl = expires ? Math.max(0, Math.floor((expires.getTime() - now.getTime()) / 1000)) : 0;
      return {
        accessor: token.id,
        creation_time: Math.floor(created.getTime() / 1000),
        creation_ttl: expires ? Math.floor((expires.getTime() - created.getTime()) / 1000) : 0,
        display_name: token.name,
        entity_id: '',
        expire_time: expires ? expires.toISOString() : null,
        explicit_max_ttl: 0,
        id: '',
        meta,
        num_uses: 0,
        orphan: true,
        path: 'auth/token/create',
        policies: [...token.scopes].sort(),
        renewable: false,
        ttl,
        type: 'service',
      };
    },

    /** The mount an organization's path is under; 404 to whoever is not in that organization. */
    async mount(principal: Principal, org: string) {
      await deps.scopes.resolveScope(principal, { org });
      return kvMount(org);
    },

    /** Every mount the principal has: its token's organization, or the user's organizations. */
    async mounts(principal: Principal) {
      const slugs =
        principal.kind === 'token'
          ? [(await repo.organizationSlug(principal.token.organizationId))?.slug].filter((slug): slug is string => slug !== undefined)
          : (await repo.organizationsOf(principal.user.id)).map((row) => row.slug);
      return Object.fromEntries(slugs.map((slug) => [`${slug}/`, kvMount(slug)]));
    },

    notFolder(access: RequestAccess) {
      return new AppError('NOT_FOUND', `No folder at ${pathOf(access)}: a service has no children`);
    },
  };
}

export type VaultService = ReturnType<typeof createVaultService>;
