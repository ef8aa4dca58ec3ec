import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Action } from '../authz/catalogue.js';
import { sees, type Authorizer, type Resource, type ResourceKind, type Subject } from '../authz/authorizer.js';
import { andThen, isPromise, type MaybePromise } from '../maybe.js';
import { tokenRefusal } from '../authz/token-scopes.js';
import { resourceOf, type OrgScope, type ScopeOf, type ScopeParams } from '../authz/scope.js';
import { AppError, notFound } from '../errors.js';
import { constantTimeEqual } from '../crypto/random-token.js';
import { requireUser, type Principal } from '../principal.js';
import { validationError } from './error-handler.js';
import { checkRequestText } from './text-input.js';
import { auditContextOf, type AuditContext } from './audit-context.js';

/**
 * What a route needs, declared in the route's own definition (`config.access`):
 * - `'public'`: nothing (sign-up, login, health);
 * - `'authenticated'`: a signed-in user (not an API token), outside any organization;
 * - `'principal'`: a signed-in user or an API token, outside any organization (a token
 *   asking what it is);
 * - `{ action, resource }`: `action` on the `resource` its path names (found from the params).
 */
export type Access = 'public' | 'authenticated' | 'principal' | { action: Action; resource: ResourceKind };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
    scope: OrgScope | null;
    access: RequestAccess | null;
    /** Set when the request was refused inside an organization, for the ACCESS_DENIED event. */
    denied: { action: Action; resource: Resource } | null;
  }
}

export interface GuardDeps {
  /**
   * Returns the principal behind the request's credentials, null when it has none; throws 401
   * for bad ones. Both this and resolveScope answer synchronously when their caches can.
   */
  authenticate(request: FastifyRequest): MaybePromise<Principal | null>;
  resolveScope(principal: Principal, params: ScopeParams): MaybePromise<OrgScope>;
  authorizer: Authorizer;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

type Done = (error?: Error) => void;

export function installGuard(app: FastifyInstance, deps: GuardDeps): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('scope', null);
  app.decorateRequest('access', null);
  app.decorateRequest('denied', null);

  // A route that does not say what it needs cannot be registered: deny by default, at build time.
  // The others get the guard as their own onRequest hook (after the application's, so after
  // cookies are parsed), made for what the route declared: reading the declaration on every
  // request (request.routeOptions) builds a dozen-field object each time.
  // onRequest runs before the body is read: strangers are turned away before parsing,
  // and a 404 for a hidden resource never depends on what the body contained.
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (access === undefined) {
      throw new Error(`Route ${route.method} ${route.url} declares no access (config.access)`);
    }
    if (access === 'public') return;
    const own = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [guardOf(deps, access), ...own];
  });
}

/**
 * The onRequest hook of a route declared with `access`. With `done` rather than async: a warm
 * request (session, placement and membership cached) runs through without a promise.
 */
function guardOf(deps: GuardDeps, access: Exclude<Access, 'public'>) {
  const admit = (request: FastifyRequest, principal: Principal | null): MaybePromise<void> => {
    if (!principal) {
      throw new AppError('UNAUTHENTICATED', 'Sign in (POST /api/v1/auth/login) or send Authorization: Bearer <token>');
    }
    if (principal.kind === 'user' && principal.session.via === 'cookie' && !SAFE_METHODS.has(request.method)) {
      const sent = request.headers['x-csrf-token'];
      // Compared in constant time: how long a refusal takes must not tell how much of a guess was right.
      if (typeof sent !== 'string' || !constantTimeEqual(sent, principal.session.csrfToken)) {
        throw new AppError(
          'CSRF_FAILED',
          'Cookie-authenticated requests that change state need the X-CSRF-Token header (the csrf_token from login)',
        );
      }
    }
    request.principal = principal;
    if (access === 'principal') return;
    if (access === 'authenticated') {
      requireUser(principal);
      return;
    }
    checkParams(request);
    return andThen(deps.resolveScope(principal, request.params as ScopeParams), (scope) => {
      request.scope = scope;
      request.access = new GuardedAccess(deps.authorizer, principal, scope, access.resource, request);
      request.access.require(access.action, resourceOf(scope, access.resource));
    });
  };

  return (request: FastifyRequest, _reply: unknown, done: Done): void => {
    let pending: MaybePromise<void>;
    try {
      pending = andThen(deps.authenticate(request), (principal) => admit(request, principal));
    } catch (error) {
      done(error as Error);
      return;
    }
    if (isPromise(pending)) pending.then(() => done(), done);
    else done();
  };
}

/**
 * The path is looked up here, before Fastify validates the route's schemas: malformed
 * parameters (a NUL, a slug that is no slug) get the 400 validation would give them, never
 * a database error.
 */
function checkParams(request: FastifyRequest): void {
  checkRequestText(request, ['params']);
  const validate = request.getValidationFunction('params');
  if (validate && !validate(request.params)) throw validationError('params', validate.errors);
}

/**
 * The one context a service receives: who is asking, where, and what they may do there.
 * Services use it for checks the route cannot make alone (an environment's type comes
 * from the body; lists are filtered item by item). `K`, the route's declared resource
 * (see accessOf), types which places its scope holds.
 */
export interface RequestAccess<K extends ResourceKind = 'organization'> {
  principal: Principal;
  scope: ScopeOf<K>;
  /** Stamped on every audit event this request causes. */
  audit: AuditContext;
  can(action: Action, resource: Resource): boolean;
  /** 404 when the principal may not even see the resource, 403 naming the action otherwise. */
  require(action: Action, resource: Resource): void;
  /** 404 unless the principal may see the resource, so existence never leaks. */
  requireVisible(resource: Resource): void;
  /** Refuses with `error` a check a service made itself, recorded like the guard's (ACCESS_DENIED). */
  refuse(action: Action, resource: Resource, error: AppError): never;
  /** The kind of resource the route declared: accessOf and scopeOf check a handler asks for that one. */
  readonly declared: ResourceKind;
}

/**
 * The guard's RequestAccess, a class rather than closures: one object per request. Refusals
 * are recorded on the request (`request.denied`, for the ACCESS_DENIED event), and the audit
 * context is built when first used: most requests are reads that record nothing.
 */
class GuardedAccess implements RequestAccess {
  readonly subject: Subject;
  #audit: AuditContext | undefined;

  constructor(
    private readonly authorizer: Authorizer,
    readonly principal: Principal,
    readonly scope: OrgScope,
    /** The kind of resource the route declared (see accessOf). */
    readonly declared: ResourceKind,
    private readonly request: FastifyRequest,
  ) {
    this.subject = { principal, membership: scope.membership, grants: scope.grants };
  }

  get audit(): AuditContext {
    return (this.#audit ??= auditContextOf(this.request, this.principal, this.scope.organization.id));
  }

  can(action: Action, resource: Resource): boolean {
    return this.authorizer.can(this.subject, action, resource);
  }

  requireVisible(resource: Resource): void {
    if (!sees(this.authorizer, this.subject, resource)) throw notFound(resource.kind[0]!.toUpperCase() + resource.kind.slice(1));
  }

  require(action: Action, resource: Resource): void {
    if (this.can(action, resource)) return;
    this.request.denied = { action, resource };
    this.requireVisible(resource);
    if (this.principal.kind === 'user') throw new AppError('FORBIDDEN', `Missing permission ${action} on this ${resource.kind}`, { action });
    throw tokenRefusal(this.principal.token, action, resource);
  }

  refuse(action: Action, resource: Resource, error: AppError): never {
    this.request.denied = { action, resource };
    throw error;
  }
}
