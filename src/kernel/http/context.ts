import type { FastifyRequest } from 'fastify';
import type { OrgScope } from '../authz/scope.js';
import { requireUser, type Principal, type UserPrincipal } from '../principal.js';
import type { RequestAccess } from './guard.js';

/** The signed-in principal of a route declared `authenticated` or with an action. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error(`${request.method} ${request.url}: no principal; is the route public?`);
  return request.principal;
}

/** The resolved hierarchy of a route declared with an action. */
export function scopeOf(request: FastifyRequest): OrgScope {
  if (!request.scope) throw new Error(`${request.method} ${request.url}: no scope; does the route declare an action?`);
  return request.scope;
}

/** The access context of a route declared with an action. */
export function accessOf(request: FastifyRequest): RequestAccess {
  if (!request.access) throw new Error(`${request.method} ${request.url}: no access; does the route declare an action?`);
  return request.access;
}

/** The signed-in user of a route declared `authenticated` (the guard has refused tokens there). */
export function userOf(request: FastifyRequest): UserPrincipal {
  return requireUser(principalOf(request));
}
