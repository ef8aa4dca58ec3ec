import { Type } from 'typebox';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf, scopeOf } from '../../kernel/http/context.js';
import { errorResponses, OrgParams, noContent } from '../../kernel/http/schemas.js';
import type { FastifyRequest } from 'fastify';
import { RoleBody, RoleParams, RoleView, type RoleViewType } from './schemas.js';
import type { RolesService } from './service.js';
import { requireWholeOrganization } from '../../kernel/authz/token-scopes.js';

const tags = ['roles'];

/**
 * A custom role's lists name clusters, projects and environments the caller may not see:
 * only those who manage roles (member:manage) read them; others get name and description.
 */
function visibleTo(request: FastifyRequest, role: RoleViewType): RoleViewType {
  const access = accessOf(request);
  if (role.system || access.can('member:manage', { kind: 'organization', organization: access.scope.organization })) return role;
  const { cluster_permissions: _c, project_permissions: _p, environment_permissions: _e, ...summary } = role;
  return summary;
}

export function roleRoutes(app: App, service: RolesService) {
  app.get('/orgs/:org/roles', {
    config: { access: { action: 'organization:read', resource: 'organization' } },
    schema: { tags, summary: 'System and custom roles', params: OrgParams, response: { 200: Type.Object({ items: Type.Array(RoleView) }), ...errorResponses } },
    handler: async (request) => {
      requireWholeOrganization(accessOf(request), 'the role list');
      return { items: (await service.list(scopeOf(request).organization)).map((role) => visibleTo(request, role)) };
    },
  });

  app.post('/orgs/:org/roles', {
    config: { access: { action: 'member:manage', resource: 'organization' } },
    schema: { tags, summary: 'Create a custom role', params: OrgParams, body: RoleBody, response: { 201: RoleView, ...errorResponses } },
    handler: async (request, reply) => reply.code(201).send(await service.create(accessOf(request), request.body)),
  });

  app.get('/orgs/:org/roles/:role_id', {
    config: { access: { action: 'organization:read', resource: 'organization' } },
    schema: { tags, summary: 'One role', params: RoleParams, response: { 200: RoleView, ...errorResponses } },
    handler: async (request) => {
      requireWholeOrganization(accessOf(request), 'a role');
      return visibleTo(request, await service.get(scopeOf(request).organization, request.params.role_id));
    },
  });

  app.put('/orgs/:org/roles/:role_id', {
    config: { access: { action: 'member:manage', resource: 'organization' } },
    schema: {
      tags,
      summary: 'Replace a custom role; its members have the new permissions on their next request',
      params: RoleParams,
      body: RoleBody,
      response: { 200: RoleView, ...errorResponses },
    },
    handler: async (request) => service.replace(accessOf(request), request.params.role_id, request.body),
  });

  app.delete('/orgs/:org/roles/:role_id', {
    config: { access: { action: 'member:manage', resource: 'organization' } },
    schema: { tags, summary: 'Delete a custom role nobody holds', params: RoleParams, response: { 204: Type.Null(), ...errorResponses } },
    handler: async (request, reply) => noContent(reply, service.delete(accessOf(request), request.params.role_id)),
  });
}
