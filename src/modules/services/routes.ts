import { Type } from 'typebox';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf, scopeOf } from '../../kernel/http/context.js';
import { Page, PageQuery, errorResponses, EnvironmentParams, ServiceParams } from '../../kernel/http/schemas.js';
import {
  CreateServiceBody,
  ServiceView,
  UpdateServiceBody,
} from './schemas.js';
import type { ServicesService } from './service.js';
import type { Service } from '../../kernel/db/schema.js';
import { renderedJson } from '../../kernel/http/rendered.js';

const tags = ['services'];

export function serviceRoutes(app: App, service: ServicesService) {
  const base = '/orgs/:org/projects/:project/environments/:env/services';
  const renderWithCredentials = renderedJson<Service>();
  const renderMasked = renderedJson<Service>();

  app.get(base, {
    config: { access: { action: 'service:read', resource: 'environment' } },
    schema: { tags, summary: 'Services of an environment', params: EnvironmentParams, querystring: PageQuery, response: { 200: Page(ServiceView), ...errorResponses } },
    handler: async (request) => service.list(accessOf(request, 'environment'), request.query.cursor, request.query.limit ?? 50),
  });

  app.post(base, {
    config: { access: { action: 'service:create', resource: 'environment' } },
    schema: { tags, summary: 'Create a service', params: EnvironmentParams, body: CreateServiceBody, response: { 201: ServiceView, ...errorResponses } },
    handler: async (request, reply) => reply.code(201).send(service.view(accessOf(request, 'environment'), await service.create(accessOf(request, 'environment'), request.body))),
  });

  app.get(`${base}/:service`, {
    config: { access: { action: 'service:read', resource: 'service' } },
    schema: { tags, summary: 'One service', params: ServiceParams, response: { 200: ServiceView, ...errorResponses } },
    // The service row is the placement cache's (a new object after any change): its view is
    // rendered once per row and per what the caller may see of its credentials.
    handler: async (request, reply) => {
      const access = accessOf(request, 'service');
      const sealed = scopeOf(request, 'service').service;
      const render = service.readsCredentials(access, sealed) ? renderWithCredentials : renderMasked;
      return render(reply, sealed, async () => service.view(access, await service.opened(sealed)));
    },
  });

  app.patch(`${base}/:service`, {
    config: { access: { action: 'service:write', resource: 'service' } },
    schema: { tags, summary: 'Edit a service', params: ServiceParams, body: UpdateServiceBody, response: { 200: ServiceView, ...errorResponses } },
    handler: async (request) => service.view(accessOf(request, 'service'), await service.update(accessOf(request, 'service'), scopeOf(request, 'service').service, request.body)),
  });

  app.delete(`${base}/:service`, {
    config: { access: { action: 'service:delete', resource: 'service' } },
    schema: { tags, summary: 'Delete a service', params: ServiceParams, response: { 204: Type.Null(), ...errorResponses } },
    handler: async (request, reply) => {
      await service.delete(accessOf(request, 'service'), scopeOf(request, 'service').service);
      return reply.code(204).send(null);
    },
  });
}
