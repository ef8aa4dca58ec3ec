import { isUuid, splitHierarchyPath } from '../../kernel/ids.js';
import { invalid, notFound } from '../../kernel/errors.js';
import { principalId, type TokenPrincipal } from '../../kernel/principal.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import type { Resource } from '../../kernel/authz/authorizer.js';
import { isAction } from '../../kernel/authz/catalogue.js';
import { explain, explainToken, type Decision } from './explain.js';
import type { GrantsLoader } from './grants-loader.js';
import type { PlacingRepo } from './scope-repo.js';

/** Finds an API token of an organization by id; the tokens module provides it, so authz does not import it. */
export interface TokenLookup {
  principalById(organizationId: string, id: string): Promise<{ principal: TokenPrincipal; path: string | null } | undefined>;
}

export interface CheckInput {
  principal?: { user_id?: string; token_id?: string };
  action: string;
  resource?: string;
}

/**
 * SPEC §2.4 `authz/check`: may this principal do that, and why. Anyone may ask about
 * themselves; asking about another principal needs authz:check. The asker must be able
 * to see the resource, so the answer never reveals what they could not find otherwise.
 */
export function createAuthzCheck(deps: {
  scopeRepo: PlacingRepo;
  grantsLoader: GrantsLoader;
  tokens: TokenLookup;
}) {
  async function resolveResource(access: RequestAccess, subjectUserId: string, name: string | undefined): Promise<Resource> {
    const organization = access.scope.organization;
    if (name === undefined) return { kind: 'organization', organization };
    if (name.startsWith('cluster:')) {
      const id = name.slice('cluster:'.length);
      const cluster = isUuid(id) ? await deps.scopeRepo.cluster(organization.id, id) : undefined;
      if (!cluster) throw notFound('Cluster');
      return { kind: 'cluster', organization, cluster };
    }
    const parts = splitHierarchyPath(name);
    if (!parts) {
      throw invalid('body.resource', 'must be "project", "project/environment", "project/environment/service" or "cluster:<id>"');
    }
    const { project, env, service } = parts;
    const placed = await deps.scopeRepo.place(subjectUserId, { org: organization.slug, project, env, service });
    if (!placed.project) throw notFound('Project');
    if (env === undefined) return { kind: 'project', organization, project: placed.project };
    if (!placed.environment) throw notFound('Environment');
    if (service === undefined) return { kind: 'environment', organization, project: placed.project, environment: placed.environment };
    if (!placed.service) throw notFound('Service');
    return { kind: 'service', organization, project: placed.project, environment: placed.environment, service: placed.service };
  }

  return async function check(access: RequestAccess, input: CheckInput): Promise<Decision & { user_id?: string; token_id?: string }> {
    if (!isAction(input.action)) {
      throw invalid('body.action', `"${input.action}" is not an action; GET /api/v1/openapi.json lists them under x-coffer-action`);
    }
    const organization = access.scope.organization;
    const self = principalId(access.principal);
    const tokenId = input.principal?.token_id?.toLowerCase();
    if (tokenId !== undefined) {
      if (tokenId !== self) access.require('authz:check', { kind: 'organization', organization });
      const found = await deps.tokens.principalById(organization.id, tokenId);
      if (!found) throw notFound('Token');
      const resource = await resolveResource(access, self, input.resource);
      access.requireVisible(resource);
      return { token_id: tokenId, ...explainToken(found.principal.token, input.action, resource, found.path) };
    }
    const userId = input.principal?.user_id?.toLowerCase() ?? self;
    if (userId !== self) access.require('authz:check', { kind: 'organization', organization });

    const resource = await resolveResource(access, userId, input.resource);
    access.requireVisible(resource);

    let membership = access.scope.membership;
    let grants = access.scope.grants;
    if (userId !== self) {
      const placed = isUuid(userId) ? await deps.scopeRepo.place(userId, { org: organization.slug }) : undefined;
      membership = placed?.membership ?? null;
      grants = membership && placed ? await deps.grantsLoader.load(membership, placed.roleVersion) : null;
    }
    if (access.principal.kind === 'token' && userId === self) {
      return { token_id: self, ...explainToken(access.principal.token, input.action, resource, null) };
    }
    if (!membership) return { user_id: userId, allowed: false, reason: `not a member of organization ${organization.slug}` };
    if (!grants) return { user_id: userId, allowed: false, reason: `role ${membership.role} grants nothing` };
    return { user_id: userId, ...explain(grants, input.action, resource) };
  };
}

export type AuthzCheck = ReturnType<typeof createAuthzCheck>;
