import { isUuid } from '../ids.js';
import type { Cluster, Environment, Membership, Organization, Project, Service } from '../db/schema.js';
import { notFound } from '../errors.js';
import type { Principal } from '../principal.js';
import type { Resource, ResourceKind } from './authorizer.js';
import type { Grants } from '../../modules/authz/grants.js';
import type { GrantsLoader } from '../../modules/authz/grants-loader.js';
import type { ScopeRepo } from '../../modules/authz/scope-repo.js';

/** Where in the hierarchy a request is, found from its path parameters. */
export interface OrgScope {
  organization: Organization;
  membership: Membership | null;
  /** What the membership holds here, compiled; null when it holds nothing (an unknown role). */
  grants: Grants | null;
  cluster?: Cluster;
  project?: Project;
  environment?: Environment;
  service?: Service;
}

/** Path parameters that name places in the hierarchy (slugs, and the cluster's id). */
export interface ScopeParams {
  org?: string;
  cluster_id?: string;
  project?: string;
  env?: string;
  service?: string;
}

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

/** The resource of `kind` in a resolved scope; a route declaring a kind its path lacks is a bug. */
export function resourceOf(scope: OrgScope, kind: ResourceKind): Resource {
  const { organization, cluster, project, environment, service } = scope;
  switch (kind) {
    case 'organization':
      return { kind, organization };
    case 'cluster':
      if (cluster) return { kind, organization, cluster };
      break;
    case 'project':
      if (project) return { kind, organization, project };
      break;
    case 'environment':
      if (project && environment) return { kind, organization, project, environment };
      break;
    case 'service':
      if (project && environment && service) return { kind, organization, project, environment, service };
      break;
  }
  throw new Error(`Route declares a ${kind} resource but its path does not name one`);
}
