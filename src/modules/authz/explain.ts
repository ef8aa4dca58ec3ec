import { ENVIRONMENT_TYPES } from '../../kernel/db/schema.js';
import type { Resource } from '../../kernel/authz/authorizer.js';
import { actionLevel, type Action } from '../../kernel/authz/catalogue.js';
import { PERSON_ONLY_ACTIONS, withinPath } from '../../kernel/authz/token-scopes.js';
import type { TokenPrincipal } from '../../kernel/principal.js';
import { can } from './evaluator.js';
import type { Grants } from './grants.js';
import { ENVIRONMENT_SET_ACTIONS, PROJECT_LEVEL_ACTIONS } from './levels.js';

export interface Decision {
  allowed: boolean;
  /** Names the grant (role, level or set) that allowed it, or says why nothing did. */
  reason: string;
}

/**
 * The same decision as `can`, with a reason a person can act on. Slower than `can` (it
 * builds strings), so it serves authz/check, never the request path.
 */
export function explain(grants: Grants, action: Action, resource: Resource): Decision {
  const allowed = can(grants, action, resource);
  return { allowed, reason: allowed ? grantedBy(grants, action, resource) : deniedBecause(grants, action, resource) };
}

function where(resource: Resource): string {
  switch (resource.kind) {
    case 'organization':
      return `organization ${resource.organization.slug}`;
    case 'cluster':
      return `cluster ${resource.cluster.name}`;
    case 'project':
      return `project ${resource.project.slug}`;
    case 'environment':
      return `${resource.environment.type} environment ${resource.environment.slug} of project ${resource.project.slug}`;
    case 'service':
      return `service ${resource.service.slug} in ${resource.environment.type} environment ${resource.environment.slug} of project ${resource.project.slug}`;
  }
}

function grantedBy(grants: Grants, action: Action, resource: Resource): string {
  const { origin } = grants;
  const level = actionLevel(action);
  if (origin.kind === 'system') {
    const scope =
      level === 'organization'
        ? ''
        : level === 'cluster'
          ? ' on every cluster'
          : level === 'project'
            ? ' on every project'
            : resource.kind === 'environment' || resource.kind === 'service'
              ? ` on ${resource.environment.type} environments of every project`
              : resource.kind === 'organization'
                ? ' on every environment of every project'
                : ' on every project';
    return `granted by system role ${origin.role}${scope}`;
  }

  const role = `custom role '${origin.role.name}'`;
  if (level === 'organization') return `granted to every member of ${role}`;
  if (resource.kind === 'cluster') return `granted by ${role}: ${origin.role.clusters.get(resource.cluster.id)} on cluster ${resource.cluster.name}`;
  if (resource.kind === 'organization') return `granted by ${role}`;

  const project = origin.role.projects.get(resource.project.id);
  const slug = resource.project.slug;
  if (project?.isAdmin) return `granted by ${role}: is_admin on project ${slug}`;

  if (level === 'environment' && (resource.kind === 'environment' || resource.kind === 'service')) {
    const type = resource.environment.type;
    if (project && PROJECT_LEVEL_ACTIONS[project.levels[type]].includes(action)) {
      return `granted by ${role}: ${project.levels[type]} on ${type} in project ${slug}`;
    }
    const sets = origin.role.environments.get(resource.environment.id)?.sets ?? [];
    const set = sets.find((s) => ENVIRONMENT_SET_ACTIONS[s].includes(action));
    return `granted by ${role}: ${set} on environment ${resource.environment.slug} of project ${slug}`;
  }
  if (project) {
    const type = ENVIRONMENT_TYPES.find((t) => project.levels[t] !== 'NO_ACCESS' && (level === 'project' || PROJECT_LEVEL_ACTIONS[project.levels[t]].includes(action)));
    if (type) return `granted by ${role}: ${project.levels[type]} on ${type} in project ${slug}`;
  }
  return `granted by ${role}: a permission set on an environment of project ${slug}`;
}

function deniedBecause(grants: Grants, action: Action, resource: Resource): string {
  const { origin } = grants;
  const holder = origin.kind === 'system' ? `system role ${origin.role}` : `custom role '${origin.role.name}'`;
  switch (actionLevel(action)) {
    case 'organization':
      return origin.kind === 'custom'
        ? `custom roles never grant organization-level actions such as ${action}`
        : `${holder} does not grant ${action}`;
    case 'cluster':
      return resource.kind === 'cluster'
        ? `no grant of ${action} on ${where(resource)} (${holder})`
        : `${action} is checked against a cluster: name one as "cluster:<id>"`;
    case 'project':
      return resource.kind === 'organization' || resource.kind === 'cluster'
        ? `${action} is checked against a project: name one as "project"`
        : `no grant of ${action} on project ${resource.project.slug} (${holder})`;
    case 'environment':
      if (resource.kind === 'environment' || resource.kind === 'service') {
        return `no grant of ${action} on ${resource.environment.type} environments of project ${resource.project.slug} (${holder})`;
      }
      if (resource.kind === 'project') return `no grant of ${action} on any environment of project ${resource.project.slug} (${holder})`;
      if (resource.kind === 'organization') {
        return `${action} on the organization needs it on every environment of every project, which ${holder} does not grant`;
      }
      return `${action} is checked against an environment: name one as "project/environment"`;
  }
}

/** The token's side of `explain`: the same decision as tokenCan in the token's organization, with its reason. */
export function explainToken(token: TokenPrincipal['token'], action: Action, resource: Resource, pathName: string | null): Decision {
  if (PERSON_ONLY_ACTIONS.has(action)) {
    return { allowed: false, reason: `${action} is done by a signed-in person only; token '${token.name}' can never hold it` };
  }
  if (!token.scopes.has(action)) return { allowed: false, reason: `token '${token.name}' lacks scope ${action}` };
  if (!withinPath(token.path, action, resource)) {
    return { allowed: false, reason: `outside the path ${pathName} of token '${token.name}'` };
  }
  return { allowed: true, reason: `granted by scope ${action} of token '${token.name}'${pathName ? ` within ${pathName}` : ''}` };
}
