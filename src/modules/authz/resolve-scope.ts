import { isUuid } from '../../kernel/ids.js';
import { notFound } from '../../kernel/errors.js';
import type { Principal } from '../../kernel/principal.js';
import type { OrgScope, ScopeParams } from '../../kernel/authz/scope.js';
import type { GrantsLoader } from './grants-loader.js';
import type { ScopeRepo } from './scope-repo.js';

/** The user id API tokens are placed as: a token is nobody's member. */
export const NO_USER = '00000000-0000-0000-0000-000000000000';
/**
 * Loads the organization and everything below it named in the path. A stranger to the
 * organization gets the same 404 as for one that does not exist, so existence never leaks.
 */
export async function resolveScope(
  repo: ScopeRepo,
  grantsLoader: GrantsLoader,
  principal: Principal,
  params: ScopeParams,
): Promise<OrgScope> {
  if (params.org === undefined) throw notFound('Organization');
  // A token belongs to one organization and is nobody's member: the nil id matches no membership.
  const placed = await repo.place(principal.kind === 'user' ? principal.user.id : NO_USER, {
    org: params.org,
    project: params.project,
    env: params.env,
    service: params.service,
  });
  if (!placed.organization) throw notFound('Organization');
  if (principal.kind === 'token' ? principal.token.organizationId !== placed.organization.id : !placed.membership) {
    throw notFound('Organization');
  }

  const grants = placed.membership ? await grantsLoader.load(placed.membership, placed.roleVersion) : null;
  const scope: OrgScope = { organization: placed.organization, membership: placed.membership, grants };
  if (params.cluster_id !== undefined) {
    const cluster = isUuid(params.cluster_id) ? await repo.cluster(placed.organization.id, params.cluster_id) : undefined;
    if (!cluster) throw notFound('Cluster');
    scope.cluster = cluster;
  }
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
