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
 * `value`, the request's scope or access, which the guard sets on routes declared with an
 * action; checking that `kind` is the resource the route declares, so that the places of its
 * kind are in the scope: the guard resolved them (resourceOf) before the handler ran. Asking
 * for another kind, or for either on a route without an action, is a programming error, answered 500.
 */
function requireDeclared<T>(request: FastifyRequest, kind: ResourceKind | undefined, what: 'scope' | 'access', value: T | null | undefined): T {
  if (!value) throw new Error(`${request.method} ${request.url}: no ${what}; does the route declare an action?`);
  if (kind === undefined) return value;
  // The guard set both from the route's declaration, which its access remembers.
  const declared = request.access?.declared;
  if (declared !== kind) {
    const route = declared === undefined ? 'no resource' : `the ${declared} resource`;
    throw new Error(`${request.method} ${request.url}: the handler asks for the ${kind} scope, but the route declares ${route}`);
  }
  return value;
}

/** The resolved hierarchy of a route declared with an action; `kind`, its declared resource, types the places present. */
export function scopeOf(request: FastifyRequest): OrgScope;
export function scopeOf<K extends ResourceKind>(request: FastifyRequest, kind: K): ScopeOf<K>;
export function scopeOf(request: FastifyRequest, kind?: ResourceKind): OrgScope {
  return requireDeclared(request, kind, 'scope', request.scope);
}

/** The access context of a route declared with an action; `kind`, its declared resource, types the places in its scope. */
export function accessOf(request: FastifyRequest): RequestAccess;
export function accessOf<K extends ResourceKind>(request: FastifyRequest, kind: K): RequestAccess<K>;
export function accessOf(request: FastifyRequest, kind?: ResourceKind): RequestAccess {
  return requireDeclared(request, kind, 'access', request.access);
}

/** The signed-in user of a route declared `authenticated` (the guard has refused tokens there). */
export function userOf(request: FastifyRequest): UserPrincipal {
  return requireUser(principalOf(request));
}
