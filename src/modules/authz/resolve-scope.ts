import { isUuid } from '../../kernel/ids.js';
import { notFound } from '../../kernel/errors.js';
import type { Principal } from '../../kernel/principal.js';
import type { OrgScope, ScopeParams } from '../../kernel/authz/scope.js';
import type { GrantsLoader } from './grants-loader.js';
import type { Placement, PlacingRepo } from './scope-repo.js';
import { andThen, type MaybePromise } from '../../kernel/maybe.js';

/** The user id API tokens are placed as: a token is nobody's member. */
export const NO_USER = '00000000-0000-0000-0000-000000000000';
/**
 * Loads the organization and everything below it named in the path. A stranger to the
 * organization gets the same 404 as for one that does not exist, so existence never leaks.
 * Answers at once when the placement, membership and grants are cached (nearly every
 * request; a cluster in the path is always read).
 */
export function resolveScope(repo: PlacingRepo, grantsLoader: GrantsLoader, principal: Principal, params: ScopeParams): MaybePromise<OrgScope> {
  if (params.org === undefined) throw notFound('Organization');
  // A token belongs to one organization and is nobody's member: the nil id matches no membership.
  const placing = repo.place(principal.kind === 'user' ? principal.user.id : NO_USER, {
    org: params.org,
    project: params.project,
    env: params.env,
    service: params.service,
  });
  return andThen(placing, (placed) => {
    if (!placed.organization) throw notFound('Organization');
    if (principal.kind === 'token' ? principal.token.organizationId !== placed.organization.id : !placed.membership) {
      throw notFound('Organization');
    }
    const organization = placed.organization;
    const grants = placed.membership ? grantsLoader.load(placed.membership, placed.roleVersion) : null;
    return andThen(grants, (grants) => {
      const scope: OrgScope = { organization, membership: placed.membership, grants };
      if (params.cluster_id === undefined) return placesOf(scope, placed, params);
      return withCluster(repo, scope, params.cluster_id).then(() => placesOf(scope, placed, params));
    });
  });
}

async function withCluster(repo: PlacingRepo, scope: OrgScope, clusterId: string): Promise<void> {
  const cluster = isUuid(clusterId) ? await repo.cluster(scope.organization.id, clusterId) : undefined;
  if (!cluster) throw notFound('Cluster');
  scope.cluster = cluster;
}

/** The scope with the places its path names, 404 for the first one that does not exist. */
function placesOf(scope: OrgScope, placed: Placement, params: ScopeParams): OrgScope {
  if (params.project !== undefined) {
    if (!placed.project) throw notFound('Project');
    scope.project = placed.project;
  }
  if (params.env !== undefined) {
    if (!placed.environment) throw notFound('Environment');
    scope.environment = placed.environment;
  }
  if (params.service !== undefined) {
    if (!placed.service) throw notFound('Service');
    scope.service = placed.service;
  }
  return scope;
}
