import type { TokenPath, TokenPrincipal } from '../../kernel/principal.js';
import type { Resource } from '../authz/authorizer.js';
import { ACTIONS, isAction, type Action } from '../authz/catalogue.js';
import type { Decision } from '../authz/explain.js';

/** SPEC §5 presets, given as {"preset": …} in place of scopes. */
export const PRESETS = {
  'read-only': ['organization:read', 'project:read', 'environment:read', 'service:read', 'secret:read'],
  ci: ['organization:read', 'project:read', 'environment:read', 'service:read', 'secret:read', 'secret:decrypt'],
} as const satisfies Record<string, readonly Action[]>;
export type Preset = keyof typeof PRESETS;

/** Scopes are actions, `resource:*` or `*`; returns the actions they match, or the unknown ones. */
export function expandScopes(scopes: readonly string[]): { actions: Set<Action>; unknown: string[] } {
  const actions = new Set<Action>();
  const unknown: string[] = [];
  for (const scope of scopes) {
    if (scope === '*') ACTIONS.forEach((action) => actions.add(action));
    else if (scope.endsWith(':*')) {
      const matching = ACTIONS.filter((action) => action.startsWith(scope.slice(0, -1)));
      if (matching.length === 0) unknown.push(scope);
      matching.forEach((action) => actions.add(action));
    } else if (isAction(scope)) actions.add(scope);
    else unknown.push(scope);
  }
  return { actions, unknown };
}

/** What a path-limited token may still do on the places above its path: see them, to get there. */
const ANCESTOR_ACTIONS: ReadonlySet<Action> = new Set(['organization:read', 'project:read', 'environment:read', 'service:read']);

/** Is `resource` inside `path` for `action`? Ancestors of the path are visible, nothing beside it is. */
export function withinPath(path: TokenPath, action: Action, resource: Resource): boolean {
  if (path.projectId === undefined) return true;
  const ancestor = ANCESTOR_ACTIONS.has(action);
  switch (resource.kind) {
    case 'organization':
      return action === 'organization:read';
    case 'cluster':
      return false;
    case 'project':
      if (resource.project.id !== path.projectId) return false;
      return path.environmentId === undefined || ancestor;
    case 'environment':
      if (resource.project.id !== path.projectId) return false;
      if (path.environmentId === undefined) return true;
      if (resource.environment.id !== path.environmentId) return false;
      return path.serviceId === undefined || ancestor;
    case 'service':
      if (resource.project.id !== path.projectId) return false;
      if (path.environmentId !== undefined && resource.environment.id !== path.environmentId) return false;
      return path.serviceId === undefined || resource.service.id === path.serviceId;
  }
}

/** SPEC §5: a token may do an action only if a scope matches it and the resource lies within its path. */
export function tokenCan(token: TokenPrincipal['token'], action: Action, resource: Resource): boolean {
  return token.organizationId === resource.organization.id && token.scopes.has(action) && withinPath(token.path, action, resource);
}

export function explainToken(token: TokenPrincipal['token'], action: Action, resource: Resource, pathName: string | null): Decision {
  if (!token.scopes.has(action)) return { allowed: false, reason: `token '${token.name}' lacks scope ${action}` };
  if (!withinPath(token.path, action, resource)) {
    return { allowed: false, reason: `outside the path ${pathName} of token '${token.name}'` };
  }
  return { allowed: true, reason: `granted by scope ${action} of token '${token.name}'${pathName ? ` within ${pathName}` : ''}` };
}
