import { Type } from 'typebox';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf, scopeOf } from '../../kernel/http/context.js';
import { Page, PageQuery, errorResponses, OrgParams } from '../../kernel/http/schemas.js';
import { ClusterParams, ClusterView, CreateClusterBody, UpdateClusterBody, toClusterView } from './schemas.js';
import type { ClustersService } from './service.js';

const tags = ['clusters'];

export function clusterRoutes(app: App, service: ClustersService) {
  app.get('/orgs/:org/clusters', {
    config: { access: { action: 'organization:read', resource: 'organization' } },
    schema: { tags, summary: 'Clusters you may see', params: OrgParams, querystring: PageQuery, response: { 200: Page(ClusterView), ...errorResponses } },
    handler: async (request) => service.list(accessOf(request), request.query.cursor, request.query.limit ?? 50),
  });

  app.post('/orgs/:org/clusters', {
    config: { access: { action: 'cluster:manage', resource: 'organization' } },
    schema: { tags, summary: 'Register a cluster', params: OrgParams, body: CreateClusterBody, response: { 201: ClusterView, ...errorResponses } },
    handler: async (request, reply) => reply.code(201).send(toClusterView(await service.create(accessOf(request), request.body))),
  });

  app.get('/orgs/:org/clusters/:cluster_id', {
    config: { access: { action: 'cluster:read', resource: 'cluster' } },
    schema: { tags, summary: 'One cluster', params: ClusterParams, response: { 200: ClusterView, ...errorResponses } },
    handler: async (request) => toClusterView(scopeOf(request, 'cluster').cluster),
  });

  app.patch('/orgs/:org/clusters/:cluster_id', {
    config: { access: { action: 'cluster:write', resource: 'cluster' } },
    schema: { tags, summary: 'Edit a cluster', params: ClusterParams, body: UpdateClusterBody, response: { 200: ClusterView, ...errorResponses } },
    handler: async (request) => toClusterView(await service.update(accessOf(request), scopeOf(request, 'cluster').cluster, request.body)),
  });

  app.delete('/orgs/:org/clusters/:cluster_id', {
    config: { access: { action: 'cluster:manage', resource: 'cluster' } },
    schema: { tags, summary: 'Delete a cluster that hosts no environment', params: ClusterParams, response: { 204: Type.Null(), ...errorResponses } },
    handler: async (request, reply) => {
      await service.delete(accessOf(request), scopeOf(request, 'cluster').cluster);
      return reply.code(204).send(null);
    },
  });
}
