import type { FastifyRequest } from 'fastify';
import type { ResourceKind } from '../authz/authorizer.js';
import type { OrgScope, ScopeOf } from '../authz/scope.js';
import { requireUser, type Principal, type UserPrincipal } from '../principal.js';
import type { RequestAccess } from './guard.js';

/** The signed-in principal of a route declared `authenticated` or with an action. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error(`${request.method} ${request.url}: no principal; is the route public?`);
  return request.principal;
}

/**
 * Checks that `kind` is the resource the route declares, so that the places of its kind are
 * in the scope: the guard resolved them (resourceOf) before the handler ran. Asking for
 * another kind is a programming error, answered 500.
 */
function requireDeclared(request: FastifyRequest, kind: ResourceKind | undefined): void {
  if (kind === undefined) return;
  const access = request.routeOptions.config.access;
  const declared = typeof access === 'object' ? access.resource : undefined;
  if (declared !== kind) {
    const route = declared === undefined ? 'no resource' : `the ${declared} resource`;
    throw new Error(`${request.method} ${request.url}: the handler asks for the ${kind} scope, but the route declares ${route}`);
  }
}

/** The resolved hierarchy of a route declared with an action; `kind`, its declared resource, types the places present. */
export function scopeOf(request: FastifyRequest): OrgScope;
export function scopeOf<K extends ResourceKind>(request: FastifyRequest, kind: K): ScopeOf<K>;
export function scopeOf(request: FastifyRequest, kind?: ResourceKind): OrgScope {
  if (!request.scope) throw new Error(`${request.method} ${request.url}: no scope; does the route declare an action?`);
  requireDeclared(request, kind);
  return request.scope;
}

/** The access context of a route declared with an action; `kind`, its declared resource, types the places in its scope. */
export function accessOf(request: FastifyRequest): RequestAccess;
export function accessOf<K extends ResourceKind>(request: FastifyRequest, kind: K): RequestAccess<K>;
export function accessOf(request: FastifyRequest, kind?: ResourceKind): RequestAccess {
  if (!request.access) throw new Error(`${request.method} ${request.url}: no access; does the route declare an action?`);
  requireDeclared(request, kind);
  return request.access;
}

/** The signed-in user of a route declared `authenticated` (the guard has refused tokens there). */
export function userOf(request: FastifyRequest): UserPrincipal {
  return requireUser(principalOf(request));
}
