import { isUuid, splitHierarchyPath } from '../../kernel/ids.js';
import type { Kysely } from 'kysely';
import { boundedCache } from '../../kernel/cache/bounded.js';
import type { Invalidation } from '../../kernel/cache/invalidation.js';
import { evictWhere } from '../../kernel/cache/evict.js';
import { apiTokenPrefix, generateApiToken, isWellFormedApiToken } from '../../kernel/crypto/api-token.js';
import { hashToken, tokenHashKey } from '../../kernel/crypto/random-token.js';
import { translateConstraint } from '../../kernel/db/errors.js';
import { ENVIRONMENT_TYPES, type Database, type Environment, type Project } from '../../kernel/db/schema.js';
import { AppError, conflict, invalid, notFound } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { requireUser, type TokenPath, type TokenPrincipal } from '../../kernel/principal.js';
import type { Resource } from '../../kernel/authz/authorizer.js';
import { actionLevel, type Action } from '../../kernel/authz/catalogue.js';
import type { PlacingRepo } from '../authz/scope-repo.js';
import type { MaybePromise } from '../../kernel/maybe.js';
import { TOKEN_CONSTRAINTS, createTokensRepo, type TokenRow } from './repo.js';
import { PRESETS, expandScopes, type Preset } from './scopes.js';
import { withAudit } from '../audit/recorder.js';

const TOKEN_TOPIC = 'api-token';
const TOUCH_INTERVAL_MS = 60_000;
const MAX_CACHED_TOKENS = 100_000;
/** Revocation evicts through invalidation; the TTL only lets idle tokens go. */
const CACHED_TOKEN_TTL_MS = 10 * 60_000;
/** Stands for "a project (or environment) that does not exist yet": only grants on every project cover it. */
const FUTURE_ID = 'ffffffff-ffff-4fff-bfff-ffffffffffff';

export interface CreateTokenInput {
  name: string;
  scopes?: string[];
  preset?: Preset;
  path?: string;
  expires_at?: string;
}

export function pathName(row: Pick<TokenRow, 'project_slug' | 'environment_slug' | 'service_slug'>): string | null {
  return [row.project_slug, row.environment_slug, row.service_slug].filter((part) => part !== null).join('/') || null;
}

function toPrincipal(row: TokenRow): TokenPrincipal {
  const path: TokenPath = {};
  if (row.project_id) path.projectId = row.project_id;
  if (row.environment_id) path.environmentId = row.environment_id;
  if (row.service_id) path.serviceId = row.service_id;
  return {
    kind: 'token',
    token: { id: row.id, name: row.name, organizationId: row.organization_id, scopes: expandScopes(row.scopes).actions, path },
  };
}

export function createTokensService(deps: { db: Kysely<Database>; scopeRepo: PlacingRepo; invalidation: Invalidation }) {
  const repo = createTokensRepo(deps.db);
  const { invalidation } = deps;

  // Live tokens by hash: once warm, a token costs no database round trip (SPEC §5, issue 5).
  const cache = boundedCache<string, { principal: TokenPrincipal; expiresAt: number; touchedAt: number }>(MAX_CACHED_TOKENS, { ttl: CACHED_TOKEN_TTL_MS });
  invalidation.subscribe(
    TOKEN_TOPIC,
    (tokenId) => {
      evictWhere(cache, (entry) => entry.principal.token.id === tokenId);
    },
    () => cache.clear(),
  );

  /**
   * The places where the creator must hold `action` for the token to carry it: every
   * place inside the path the action could apply to, including ones created later.
   * Actions that can never apply inside the path need no check.
   */
  function placesFor(
    action: Action,
    organization: RequestAccess['scope']['organization'],
    target: { project?: Project; environment?: Environment; service?: Resource & { kind: 'service' } },
  ): Resource[] {
    const now = new Date(0);
    const futureProject: Project = { id: FUTURE_ID, organization_id: organization.id, slug: 'any', name: 'any', description: '', encryption: 'server', created_at: now, updated_at: now };
    const project = target.project ?? futureProject;
    const environmentsOf = (p: Project): Resource[] =>
      target.environment
        ? [{ kind: 'environment', organization, project: p, environment: target.environment }]
        : ENVIRONMENT_TYPES.map((type) => ({
            kind: 'environment' as const,
            organization,
            project: p,
            environment: { id: FUTURE_ID, project_id: p.id, slug: 'any', name: 'any', type, cluster_id: null, created_at: now, updated_at: now },
          }));
    switch (actionLevel(action)) {
      case 'organization':
        return target.project && action !== 'organization:read' ? [] : [{ kind: 'organization', organization }];
      case 'cluster':
        return []; // checked by the caller against every cluster, for tokens without a path
      case 'project':
        if (target.environment && action !== 'project:read') return [];
        return [{ kind: 'project', organization, project }];
      case 'environment':
        if (target.service) return [target.service];
        return environmentsOf(project);
    }
  }

  async function resolvePath(access: RequestAccess, path: string | undefined) {
    if (path === undefined) return {};
    const parts = splitHierarchyPath(path);
    if (!parts) throw invalid('body.path', 'must be "project", "project/environment" or "project/environment/service"');
    const { project, env, service } = parts;
    const placed = await deps.scopeRepo.place(access.principal.kind === 'user' ? access.principal.user.id : FUTURE_ID, {
      org: access.scope.organization.slug,
      project,
      env,
      service,
    });
    const missing = !placed.project || (env !== undefined && !placed.environment) || (service !== undefined && !placed.service);
    // What the creator cannot see does not exist for them either.
    const visible =
      !missing &&
      access.can('project:read', { kind: 'project', organization: access.scope.organization, project: placed.project! });
    if (missing || !visible) throw invalid('body.path', `no such place: ${path}`);
    return {
      project: placed.project!,
      environment: placed.environment ?? undefined,
      service: placed.service
        ? ({ kind: 'service', organization: access.scope.organization, project: placed.project!, environment: placed.environment!, service: placed.service } as const)
        : undefined,
    };
  }

  async function authenticateFromDatabase(key: string): Promise<TokenPrincipal | null> {
    const tokenHash = Buffer.from(key, 'base64');
    const row = await repo.byHash(tokenHash);
    if (!row) {
      // Only a holder of the token can compute its hash: telling them it was revoked leaks nothing.
      const revokedAt = await repo.revokedAt(tokenHash);
      if (revokedAt) throw refused('revoked', revokedAt);
      return null;
    }
    const entry = {
      principal: toPrincipal(row),
      expiresAt: row.expires_at?.getTime() ?? Number.POSITIVE_INFINITY,
      touchedAt: row.last_used_at?.getTime() ?? 0,
    };
    cache.set(key, entry);
    return admit(entry);
  }

  /** The principal of a known token, unless it expired; last_used_at written at most once a minute. */
  function admit(entry: { principal: TokenPrincipal; expiresAt: number; touchedAt: number }): TokenPrincipal {
    const now = Date.now();
    if (entry.expiresAt <= now) throw refused('expired', new Date(entry.expiresAt));
    if (now - entry.touchedAt > TOUCH_INTERVAL_MS) {
      entry.touchedAt = now;
      void repo.touch(entry.principal.token.id).catch(() => {});
    }
    return entry.principal;
  }

  return {
    /** Mints a token carrying only scopes its creator holds over its whole path (no escalation). */
    async create(access: RequestAccess, input: CreateTokenInput) {
      const creator = requireUser(access.principal);
      if ((input.scopes === undefined) === (input.preset === undefined)) {
        throw invalid('body', 'give exactly one of scopes or preset');
      }
      const scopes = input.scopes ?? [...PRESETS[input.preset!]];
      const { actions, unknown, personOnly } = expandScopes(scopes);
      if (unknown.length > 0) {
        throw new AppError('VALIDATION_FAILED', `scopes: unknown scope(s) ${unknown.join(', ')}`, {
          field: 'body.scopes',
          reason: 'unknown scope',
          unknown,
        });
      }
      // Refused outright rather than accepted and never honoured: a token that looks able to
      // delete the organization would mislead whoever reads its scopes.
      if (personOnly.length > 0) {
        throw new AppError(
          'VALIDATION_FAILED',
          `scopes: ${personOnly.join(', ')} ${personOnly.length === 1 ? 'is' : 'are'} done by a signed-in person only; no API token may hold ${personOnly.length === 1 ? 'it' : 'them'}`,
          { field: 'body.scopes', reason: 'person-only scope', scopes: personOnly },
        );
      }
      const expiresAt = input.expires_at === undefined ? null : new Date(input.expires_at);
      if (expiresAt && expiresAt.getTime() <= Date.now()) throw invalid('body.expires_at', 'must be in the future');

      const { organization } = access.scope;
      const target = await resolvePath(access, input.path);
      const clusters = target.project ? [] : await repo.clusters(organization.id);
      for (const action of actions) {
        const places: Resource[] =
          actionLevel(action) === 'cluster' && !target.project
            ? clusters.map((cluster) => ({ kind: 'cluster' as const, organization, cluster }))
            : placesFor(action, organization, target);
        if (!places.every((place) => access.can(action, place))) {
          throw new AppError(
            'FORBIDDEN',
            `You cannot give a token ${action}: you do not hold it everywhere in ${input.path ?? `organization ${organization.slug}`}`,
            { scope: action },
          );
        }
      }

      const token = generateApiToken();
      try {
        const { id } = await withAudit(deps.db, access.audit, async (tx, note) => {
          const inserted = await createTokensRepo(tx).insert({
          organization_id: organization.id,
          name: input.name,
          token_hash: hashToken(token),
          prefix: apiTokenPrefix(token),
          scopes,
          project_id: target.project?.id ?? null,
          environment_id: target.environment?.id ?? null,
          service_id: target.service?.service.id ?? null,
          created_by: creator.user.id,
          expires_at: expiresAt,
          });
          note({
            event_type: 'CREATE',
            target_type: 'token',
            target_id: inserted.id,
            target_name: input.name,
            change: `Created API token ${input.name}${input.path ? ` for ${input.path}` : ''}`,
            details: { after: { scopes, path: input.path ?? null, expires_at: expiresAt?.toISOString() ?? null } },
          });
          return inserted;
        });
        return { token, row: (await repo.byId(organization.id, id))! };
      } catch (error) {
        throw translateConstraint(error, { [TOKEN_CONSTRAINTS.name]: () => conflict(`A token named "${input.name}" already exists`, { field: 'name' }) });
      }
    },

    list: (access: RequestAccess) => repo.list(access.scope.organization.id),

    async revoke(access: RequestAccess, id: string) {
      const existing = isUuid(id) ? await repo.byId(access.scope.organization.id, id) : undefined;
      if (!existing) throw notFound('Token');
      await withAudit(deps.db, access.audit, async (tx, note) => {
        if (!(await createTokensRepo(tx).delete(access.scope.organization.id, id))) throw notFound('Token');
        note({ event_type: 'DELETE', target_type: 'token', target_id: id, target_name: existing.name, change: `Revoked API token ${existing.name}` });
      });
      await invalidation.publish(TOKEN_TOPIC, id);
    },

    /** What a token is, for the token itself (its organization, scopes and path). */
    async describe(principal: TokenPrincipal) {
      const row = await repo.byId(principal.token.organizationId, principal.token.id);
      const organization = await repo.organization(principal.token.organizationId);
      if (!row || !organization) throw notFound('Token');
      return { row, organization };
    },

    /** The principal of a token for authz/check, with its path for explanations. */
    async principalById(organizationId: string, id: string) {
      const row = isUuid(id) ? await repo.byId(organizationId, id) : undefined;
      return row ? { principal: toPrincipal(row), path: pathName(row) } : undefined;
    },

    /**
     * The principal behind an API token, or null. A token with a bad checksum is refused
     * before any lookup; a warm token needs no database round trip; last_used_at is
     * written at most once a minute per token.
     */
    authenticate(raw: string): MaybePromise<TokenPrincipal | null> {
      if (!isWellFormedApiToken(raw)) return null;
      const key = tokenHashKey(raw);
      const entry = invalidation.healthy ? cache.get(key) : undefined;
      // Warm: no promise at all (this is every request of CI); cold: through the database.
      return entry ? admit(entry) : authenticateFromDatabase(key);
    },
  };

}

export type TokensService = ReturnType<typeof createTokensService>;

/** A 401 that tells the token's holder why it no longer works (issue #11), rather than "unknown". */
function refused(reason: 'revoked' | 'expired', at: Date): AppError {
  const when = at.toISOString();
  return new AppError('UNAUTHENTICATED', `This API token ${reason === 'revoked' ? 'was revoked' : 'expired'} on ${when}`, { reason, [`${reason}_at`]: when });
}
