import { AppError } from '../errors.js';
import type { RequestAccess } from '../http/guard.js';
import type { TokenPath, TokenPrincipal } from '../principal.js';
import type { Resource, ResourceKind } from './authorizer.js';
import { actionLevel, type Action, type ActionLevel } from './catalogue.js';

/**
 * What only a person may do, whatever a token's scopes (SPEC §5, issue #18): deleting the
 * organization is the OWNER's in person (so is transferring ownership, which has no action:
 * it needs a signed-in OWNER), and managing billing belongs to the people who hold it
 * (OWNER, ADMIN, BILLING_MANAGER), never to a program. `*` and `resource:*` leave these out;
 * naming one is refused at creation, and a token never passes a check for one.
 */
export const PERSON_ONLY_ACTIONS: ReadonlySet<Action> = new Set<Action>(['organization:delete', 'billing:manage']);

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

/**
 * SPEC §5: a token may do an action only if a scope matches it and the resource lies within
 * its path; never a person-only action, even from a row stored with one (defence in depth).
 */
export function tokenCan(token: TokenPrincipal['token'], action: Action, resource: Resource): boolean {
  return (
    token.organizationId === resource.organization.id &&
    !PERSON_ONLY_ACTIONS.has(action) &&
    token.scopes.has(action) &&
    withinPath(token.path, action, resource)
  );
}

/** Is `resource` the place the token's path names, or one on the way there (the organization included)? */
function onPath(path: TokenPath, resource: Resource): boolean {
  switch (resource.kind) {
    case 'organization':
      return true;
    case 'cluster':
      return false;
    case 'project':
      return resource.project.id === path.projectId;
    case 'environment':
      return resource.environment.id === path.environmentId;
    case 'service':
      return resource.service.id === path.serviceId;
  }
}

/** The levels of the actions that act on a place of each kind or on something inside it. */
const ACTING_WITHIN: Record<ResourceKind, ReadonlySet<ActionLevel>> = {
  organization: new Set(['organization', 'cluster', 'project', 'environment']),
  cluster: new Set(['cluster']),
  project: new Set(['project', 'environment']),
  environment: new Set(['environment']),
  service: new Set(['environment']),
};

/**
 * What a token may see, so that a refusal there is a 403 naming the scope rather than a 404
 * (SPEC §2.4, §5): its organization and the places on the way to its path, and every place
 * where one of its scopes lets it do something. A token with secret:read on
 * shop/production/backend sees that service, so a write there is refused naming
 * secret:write; what lies beside its path stays invisible. `can` is the authorizer's
 * decision for this token on `resource`.
 */
export function tokenSees(token: TokenPrincipal['token'], resource: Resource, can: (action: Action) => boolean): boolean {
  if (token.organizationId !== resource.organization.id) return false;
  if (onPath(token.path, resource)) return true;
  const levels = ACTING_WITHIN[resource.kind];
  for (const action of token.scopes) if (levels.has(actionLevel(action)) && can(action)) return true;
  return false;
}

/** Why a token was refused `action` on a place it sees: a person-only action, its path, or a missing scope. */
export function tokenRefusal(token: TokenPrincipal['token'], action: Action, resource: Resource): AppError {
  if (PERSON_ONLY_ACTIONS.has(action)) {
    return new AppError('FORBIDDEN', `${action} is done by a signed-in person only: API tokens never hold it, whatever their scopes`, {
      action,
      reason: 'person-only',
    });
  }
  if (token.scopes.has(action)) {
    return new AppError('FORBIDDEN', `This token holds ${action}, but its path does not reach this ${resource.kind}`, { action, reason: 'path' });
  }
  return new AppError('FORBIDDEN', `This token lacks the scope ${action}`, { action, scope: action });
}

/**
 * SPEC §5: a path-limited token sees nothing beside its path, not even the member list.
 * Organization-wide listings that organization:read alone would open (members, roles) call
 * this: such a token is refused with 403 and recorded, the way a refusal by its path always is.
 */
export function requireWholeOrganization(access: RequestAccess, what: string): void {
  const { principal } = access;
  if (principal.kind !== 'token' || principal.token.path.projectId === undefined) return;
  access.refuse(
    'organization:read',
    { kind: 'organization', organization: access.scope.organization },
    new AppError('FORBIDDEN', `This token is limited to a path, and ${what} is organization-wide: it lies beyond its path`, {
      action: 'organization:read',
      reason: 'path',
    }),
  );
}
