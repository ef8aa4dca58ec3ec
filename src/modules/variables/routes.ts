import { Type, type TObject } from 'typebox';
import type { VariableScopeLevel } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf } from '../../kernel/http/context.js';
import { invalid } from '../../kernel/errors.js';
import { ErrorResponse, Page, errorResponses, OrgParams, ProjectParams, EnvironmentParams, ServiceParams } from '../../kernel/http/schemas.js';
import type { ResourceKind } from '../../kernel/authz/authorizer.js';
import type { Resolver } from './resolver.js';
import {
  BatchBody,
  BatchResult,
  CreateVariableBody,
  ResolveQuery,
  RollbackBody,
  UpdateVariableBody,
  VariableListQuery,
  VariableView,
  VersionListQuery,
  VersionView,
} from './schemas.js';
import type { VariablesService } from './service.js';
import { renderedJson } from '../../kernel/http/rendered.js';

const tags = ['variables'];

const LEVELS: { level: VariableScopeLevel; base: string; params: TObject; resource: ResourceKind }[] = [
  { level: 'organization', base: '/orgs/:org', params: OrgParams, resource: 'organization' },
  { level: 'project', base: '/orgs/:org/projects/:project', params: ProjectParams, resource: 'project' },
  { level: 'environment', base: '/orgs/:org/projects/:project/environments/:env', params: EnvironmentParams, resource: 'environment' },
  { level: 'service', base: '/orgs/:org/projects/:project/environments/:env/services/:service', params: ServiceParams, resource: 'service' },
];

const withId = (params: TObject) => Type.Object({ ...params.properties, id: Type.String({ maxLength: 64 }) });

/** The same seven routes at each of the four scopes (SPEC §7), and resolution of environments and services. */
export function variableRoutes(app: App, service: VariablesService, resolver: Resolver) {
  const renderPage = renderedJson<Awaited<ReturnType<VariablesService['list']>>>();
  for (const { level, base, params, resource } of LEVELS) {
    const url = `${base}/variables`;
    const read = { access: { action: 'secret:read' as const, resource } };
    const write = { access: { action: 'secret:write' as const, resource } };
    const where = level === 'organization' ? 'the organization' : `a ${level}`;

    app.get(url, {
      config: read,
      schema: { tags, summary: `Variables of ${where} (secrets masked)`, params, querystring: VariableListQuery, response: { 200: Page(VariableView), ...errorResponses } },
      // A warm page is the list cache's object (withListCache): rendered once, then sent as bytes.
      handler: async (request, reply) => {
        const query = request.query as { cursor?: string; limit?: number };
        const page = await service.list(accessOf(request), level, query.cursor, query.limit ?? 100);
        return renderPage(reply, page, () => page);
      },
    });

    app.post(url, {
      config: write,
      schema: { tags, summary: `Create a variable in ${where}`, params, body: CreateVariableBody, response: { 201: VariableView, ...errorResponses } },
      handler: async (request, reply) => reply.code(201).send(await service.create(accessOf(request), level, request.body)),
    });

    app.post(`${url}/batch`, {
      config: write,
      // A large import in one request: values are at most 64 KiB each, JSON escaping can double them.
      bodyLimit: 64 * 1024 * 1024,
      schema: {
        tags,
        summary: `Create or update many variables of ${where} at once, all or nothing`,
        description:
          'Each key is created, updated (a new version) or left alone when it already holds that value and type; one audit event per change. ' +
          'A refused item (invalid key or value, an immutable variable) fails the whole batch naming `body.variables[i]`. `dry_run` answers the same lists and writes nothing. Answers key names, never values.',
        params,
        body: BatchBody,
        response: { 200: BatchResult, ...errorResponses },
      },
      handler: async (request) => service.batch(accessOf(request), level, request.body),
    });

    app.get(`${url}/:id`, {
      config: read,
      schema: { tags, summary: `One variable of ${where} (secrets masked)`, params: withId(params), response: { 200: VariableView, ...errorResponses } },
      handler: async (request) => service.get(accessOf(request), level, (request.params as { id: string }).id),
    });

    app.patch(`${url}/:id`, {
      config: write,
      schema: { tags, summary: `Change a variable of ${where} (a new version; immutable ones answer 409)`, params: withId(params), body: UpdateVariableBody, response: { 200: VariableView, ...errorResponses } },
      handler: async (request) => service.update(accessOf(request), level, (request.params as { id: string }).id, request.body),
    });

    app.delete(`${url}/:id`, {
      config: write,
      schema: { tags, summary: `Delete a variable of ${where} (its history is kept)`, params: withId(params), response: { 204: Type.Null(), ...errorResponses } },
      handler: async (request, reply) => {
        await service.delete(accessOf(request), level, (request.params as { id: string }).id);
        return reply.code(204).send(null);
      },
    });

    app.get(`${url}/:id/versions`, {
      config: read,
      schema: { tags, summary: 'Every version of a variable, newest first, with who and when', params: withId(params), querystring: VersionListQuery, response: { 200: Page(VersionView), ...errorResponses } },
      handler: async (request) => {
        const query = request.query as { cursor?: string; limit?: number };
        return service.versions(accessOf(request), level, (request.params as { id: string }).id, query.cursor, query.limit ?? 50);
      },
    });

    app.post(`${url}/:id/rollback`, {
      config: write,
      schema: { tags, summary: 'Roll back to an earlier version (as a new version; restores a deleted variable)', params: withId(params), body: RollbackBody, response: { 200: VariableView, ...errorResponses } },
      handler: async (request) => service.rollback(accessOf(request), level, (request.params as { id: string }).id, request.body.version),
    });
  }

  for (const { base, params, resource } of LEVELS.slice(2)) {
    app.get(`${base}/resolve`, {
      config: { access: { action: 'secret:decrypt', resource } },
      schema: {
        tags,
        summary: `Resolve the variables of ${resource === 'service' ? 'a service' : 'an environment'} (SPEC §3), secrets in clear`,
        description:
          'Precedence builtin < organization < project < environment < service < member. `format` is json (default), env-json, dotenv, docker (for `docker run --env-file`), shell, yaml or pg_service. ' +
          'A value a format cannot carry exactly is a 400 naming the key and the formats that can. ' +
          'Database credentials the caller may not read (database:read_credentials) are left out and listed in `omitted`. Every resolution is recorded as READ_SECRET before it is answered. ' +
          '`explain=true` (json only) answers where each key comes from instead of its secrets: per key the winning `scope`, the lower-scope definitions it `overrides`, the keys it `references`, its value masked when it is a secret or has one expanded into it (`masked`), pg_service entries masked with their `overrides`, and `omitted_reasons`.',
        params,
        querystring: ResolveQuery,
        response: { ...errorResponses, 422: ErrorResponse, 500: ErrorResponse },
      },
      handler: async (request, reply) => {
        const query = request.query as { format?: 'json'; member?: string; explain?: boolean };
        if (query.explain && (query.format ?? 'json') !== 'json') throw invalid('explain', 'goes with format=json only');
        const rendered = await resolver.resolve(accessOf(request), { format: query.format ?? 'json', member: query.member, explain: query.explain === true });
        // Pre-serialised: a warm answer is bytes from memory. Never cached by intermediaries.
        return reply.type(rendered.contentType).header('cache-control', 'no-store').send(rendered.bytes as never);
      },
    });
  }
}
