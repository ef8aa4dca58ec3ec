import { Type } from 'typebox';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf, scopeOf } from '../../kernel/http/context.js';
import { Page, PageQuery, errorResponses, OrgParams, ProjectParams } from '../../kernel/http/schemas.js';
import { CreateProjectBody, ProjectView, UpdateProjectBody, toProjectView } from './schemas.js';
import type { ProjectsService } from './service.js';

const tags = ['projects'];

export function projectRoutes(app: App, service: ProjectsService) {
  app.get('/orgs/:org/projects', {
    config: { access: { action: 'organization:read', resource: 'organization' } },
    schema: { tags, summary: 'Projects you may see', params: OrgParams, querystring: PageQuery, response: { 200: Page(ProjectView), ...errorResponses } },
    handler: async (request) => service.list(accessOf(request), request.query.cursor, request.query.limit ?? 50),
  });

  app.post('/orgs/:org/projects', {
    config: { access: { action: 'project:create', resource: 'organization' } },
    schema: { tags, summary: 'Create a project', params: OrgParams, body: CreateProjectBody, response: { 201: ProjectView, ...errorResponses } },
    handler: async (request, reply) => reply.code(201).send(toProjectView(await service.create(accessOf(request), request.body))),
  });

  app.get('/orgs/:org/projects/:project', {
    config: { access: { action: 'project:read', resource: 'project' } },
    schema: { tags, summary: 'One project', params: ProjectParams, response: { 200: ProjectView, ...errorResponses } },
    handler: async (request) => toProjectView(scopeOf(request, 'project').project),
  });

  app.patch('/orgs/:org/projects/:project', {
    config: { access: { action: 'project:write', resource: 'project' } },
    schema: { tags, summary: 'Edit a project', params: ProjectParams, body: UpdateProjectBody, response: { 200: ProjectView, ...errorResponses } },
    handler: async (request) => toProjectView(await service.update(accessOf(request), scopeOf(request, 'project').project, request.body)),
  });

  app.delete('/orgs/:org/projects/:project', {
    config: { access: { action: 'project:write', resource: 'project' } },
    schema: { tags, summary: 'Delete a project and everything in it', params: ProjectParams, response: { 204: Type.Null(), ...errorResponses } },
    handler: async (request, reply) => {
      await service.delete(accessOf(request), scopeOf(request, 'project').project);
      return reply.code(204).send(null);
    },
  });
}
