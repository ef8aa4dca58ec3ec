import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { OrgScope } from '../authz/scope.js';
import { accessOf, scopeOf } from './context.js';
import type { Access, RequestAccess } from './guard.js';

/** A request as the guard leaves it on a route declared with `access`. */
function guarded(access: Access, scope: Partial<OrgScope>): FastifyRequest {
  const orgScope = { organization: { id: 'o' }, membership: null, grants: null, ...scope } as OrgScope;
  return {
    method: 'GET',
    url: '/orgs/acme/projects/shop',
    scope: orgScope,
    access: { scope: orgScope, declared: typeof access === 'object' ? access.resource : undefined } as RequestAccess,
  } as unknown as FastifyRequest;
}

describe('accessOf and scopeOf with the route resource', () => {
  const project = { id: 'p', slug: 'shop' } as NonNullable<OrgScope['project']>;
  const request = guarded({ action: 'project:read', resource: 'project' }, { project });

  it('give the scope of the resource the route declares, its places present', () => {
    expect(accessOf(request, 'project').scope.project.slug).toBe('shop');
    expect(scopeOf(request, 'project').project.id).toBe('p');
  });

  it('without a kind give the organization-level view of any guarded route', () => {
    expect(accessOf(request).scope.organization.id).toBe('o');
    expect(scopeOf(request).organization.id).toBe('o');
  });

  it('throw an internal error when asked for a resource the route does not declare', () => {
    expect(() => accessOf(request, 'environment')).toThrow(/asks for the environment scope, but the route declares the project resource/);
    expect(() => scopeOf(request, 'service')).toThrow(/asks for the service scope, but the route declares the project resource/);
    expect(() => accessOf(request, 'organization')).toThrow(/route declares the project resource/);
  });
});
