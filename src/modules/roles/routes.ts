import { Type } from 'typebox';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf, scopeOf } from '../../kernel/http/context.js';
import { errorResponses } from '../../kernel/http/schemas.js';
import { OrgParams } from '../organizations/schemas.js';
import { RoleBody, RoleParams, RoleView } from './schemas.js';
import type { RolesService } from './service.js';

const tags = ['roles'];

export function roleRoutes(app: App, service: RolesService) {
  app.get('/orgs/:org/roles', {
    config: { access: { action: 'organization:read', resource: 'organization' } },
    schema: { tags, summary: 'System and custom roles', params: OrgParams, response: { 200: Type.Object({ items: Type.Array(RoleView) }), ...errorResponses } },
    handler: async (request) => ({ items: await service.list(scopeOf(request).organization) }),
  });

  app.post('/orgs/:org/roles', {
    config: { access: { action: 'member:manage', resource: 'organization' } },
    schema: { tags, summary: 'Create a custom role', params: OrgParams, body: RoleBody, response: { 201: RoleView, ...errorResponses } },
    handler: async (request, reply) => reply.code(201).send(await service.create(accessOf(request), request.body)),
  });

  app.get('/orgs/:org/roles/:role_id', {
    config: { access: { action: 'organization:read', resource: 'organization' } },
    schema: { tags, summary: 'One role', params: RoleParams, response: { 200: RoleView, ...errorResponses } },
    handler: async (request) => service.get(scopeOf(request).organization, request.params.role_id),
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
    handler: async (request, reply) => {
      await service.delete(accessOf(request), request.params.role_id);
      return reply.code(204).send(null);
    },
  });
}
