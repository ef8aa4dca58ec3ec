import { Type } from 'typebox';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf, scopeOf } from '../../kernel/http/context.js';
import { Page, PageQuery, errorResponses, ProjectParams, EnvironmentParams } from '../../kernel/http/schemas.js';
import {
  CreateEnvironmentBody,
  EnvironmentView,
  UpdateEnvironmentBody,
  toEnvironmentView,
} from './schemas.js';
import type { EnvironmentsService } from './service.js';

const tags = ['environments'];

export function environmentRoutes(app: App, service: EnvironmentsService) {
  const base = '/orgs/:org/projects/:project/environments';

  app.get(base, {
    config: { access: { action: 'project:read', resource: 'project' } },
    schema: { tags, summary: 'Environments you may see', params: ProjectParams, querystring: PageQuery, response: { 200: Page(EnvironmentView), ...errorResponses } },
    handler: async (request) => service.list(accessOf(request, 'project'), request.query.cursor, request.query.limit ?? 50),
  });

  app.post(base, {
    config: { access: { action: 'environment:create', resource: 'project' } },
    schema: {
      tags,
      summary: 'Create an environment (needs environment:create for its type, and cluster:deploy on its cluster)',
      params: ProjectParams,
      body: CreateEnvironmentBody,
      response: { 201: EnvironmentView, ...errorResponses },
    },
    handler: async (request, reply) =>
      reply.code(201).send(toEnvironmentView(await service.create(accessOf(request, 'project'), request.body))),
  });

  app.get(`${base}/:env`, {
    config: { access: { action: 'environment:read', resource: 'environment' } },
    schema: { tags, summary: 'One environment', params: EnvironmentParams, response: { 200: EnvironmentView, ...errorResponses } },
    handler: async (request) => toEnvironmentView(scopeOf(request, 'environment').environment),
  });

  app.patch(`${base}/:env`, {
    config: { access: { action: 'environment:write', resource: 'environment' } },
    schema: { tags, summary: 'Edit or rename an environment', params: EnvironmentParams, body: UpdateEnvironmentBody, response: { 200: EnvironmentView, ...errorResponses } },
    handler: async (request) =>
      toEnvironmentView(await service.update(accessOf(request, 'environment'), scopeOf(request, 'environment').environment, request.body)),
  });

  app.delete(`${base}/:env`, {
    config: { access: { action: 'environment:delete', resource: 'environment' } },
    schema: { tags, summary: 'Delete an environment and its services', params: EnvironmentParams, response: { 204: Type.Null(), ...errorResponses } },
    handler: async (request, reply) => {
      await service.delete(accessOf(request, 'environment'), scopeOf(request, 'environment').environment);
      return reply.code(204).send(null);
    },
  });
}
