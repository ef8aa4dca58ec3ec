import { ENVIRONMENT_TYPES } from '../../kernel/db/schema.js';
import type { Authorizer, Resource } from '../../kernel/authz/authorizer.js';
import { tokenCan } from '../../kernel/authz/token-scopes.js';
import { actionLevel, type Action } from '../../kernel/authz/catalogue.js';
import type { Grants } from './grants.js';

function projectIdOf(resource: Resource): string | undefined {
  return resource.kind === 'organization' || resource.kind === 'cluster' ? undefined : resource.project.id;
}

/**
 * May the holder of `grants` do `action` on `resource`? Pure and allocation-free: the
 * action's level says where to look (SPEC §2.1).
 * - organization actions: the organization's set, whatever the resource;
 * - cluster actions: on a cluster;
 * - project actions: on a project or anything in it; seeing one environment of a project
 *   (a per-environment set) lets its holder see the project too;
 * - environment actions: on an environment or service, by the environment's type or its
 *   own sets; on a project they mean "on some environment of it" (creating one, listing);
 *   on the organization they mean "on every environment of every project" (organization
 *   variables reach them all, so only a holder everywhere may manage them).
 */
export function can(grants: Grants, action: Action, resource: Resource): boolean {
  switch (actionLevel(action)) {
    case 'organization':
      return grants.organization.has(action);

    case 'cluster':
      return (
        resource.kind === 'cluster' &&
        (grants.allClusters.has(action) || (grants.clusters.get(resource.cluster.id)?.has(action) ?? false))
      );

    case 'project': {
      const projectId = projectIdOf(resource);
      if (projectId === undefined) return false;
      if (grants.allProjects?.project.has(action) || grants.projects.get(projectId)?.project.has(action)) return true;
      return action === 'project:read' && grants.environmentsByProject.has(projectId);
    }

    case 'environment': {
      if (resource.kind === 'environment' || resource.kind === 'service') {
        const { type, id } = resource.environment;
        return (
          (grants.allProjects?.byType[type].has(action) ?? false) ||
          (grants.projects.get(resource.project.id)?.byType[type].has(action) ?? false) ||
          (grants.environments.get(id)?.has(action) ?? false)
        );
      }
      if (resource.kind === 'project') {
        const projectId = resource.project.id;
        return (
          (grants.allProjects?.anyType.has(action) ?? false) ||
          (grants.projects.get(projectId)?.anyType.has(action) ?? false) ||
          (grants.environmentsByProject.get(projectId)?.has(action) ?? false)
        );
      }
      if (resource.kind === 'organization') {
        const everywhere = grants.allProjects;
        return everywhere !== null && ENVIRONMENT_TYPES.every((type) => everywhere.byType[type].has(action));
      }
      return false;
    }
  }
}

/**
 * The only projects on which `can(grants, 'project:read', …)` can hold, or null when the
 * grants reach projects not listed by id (a role over all projects: every built-in role) or
 * hold cluster grants, where a listing keeps reading them all. A superset: callers still
 * check each project; the ids only narrow what they read (issue #16).
 */
export function listedProjectIds(grants: Grants): readonly string[] | null {
  if (grants.allProjects !== null || grants.allClusters.size > 0 || grants.clusters.size > 0) return null;
  const ids = new Set<string>();
  for (const [id, grant] of grants.projects) if (grant.project.has('project:read')) ids.add(id);
  for (const id of grants.environmentsByProject.keys()) ids.add(id);
  return [...ids];
}

/** The authorization engine: a member's compiled grants, evaluated in the resource's organization. */
export const engineAuthorizer: Authorizer = {
  can: (subject, action, resource) =>
    subject.principal.kind === 'token'
      ? tokenCan(subject.principal.token, action, resource)
      : subject.grants !== null &&
    subject.membership?.organization_id === resource.organization.id &&
    can(subject.grants, action, resource),
};
