import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { TSchema } from 'typebox';
import type { ResourceKind } from '../../kernel/authz/authorizer.js';
import type { Action } from '../../kernel/authz/catalogue.js';
import { resourceOf } from '../../kernel/authz/scope.js';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf, principalOf } from '../../kernel/http/context.js';
import { toAppError } from '../../kernel/http/error-handler.js';
import { EnvironmentParams, OrgParams, ProjectParams, ServiceParams } from '../../kernel/http/schemas.js';
import { VERSION } from '../../version.js';
import {
  DataQuery,
  DataResponse,
  HealthResponse,
  isListing,
  ListResponse,
  MetadataQuery,
  MetadataResponse,
  MountPathParams,
  MountResponse,
  MountsResponse,
  TokenLookupResponse,
  vaultErrorResponses,
} from './schemas.js';
import type { VaultService } from './service.js';

const tags = ['vault'];

/** Vault's envelope around `data`; Coffer issues no leases. */
const envelope = <T>(request: FastifyRequest, data: T) => ({ request_id: request.id, lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null });

/**
 * Errors in Vault's shape and with Vault's codes: a missing or bad token is 403 "permission
 * denied" (Vault has no 401), hidden and missing paths 404, bad input 400.
 */
function sendVaultError(request: FastifyRequest, reply: FastifyReply, error: FastifyError) {
  const appError = toAppError(error);
  if (appError.status >= 500) request.log.error({ err: error }, 'unhandled error');
  if (appError.headers) reply.headers(appError.headers);
  let status = appError.status >= 500 ? 500 : appError.status;
  let message = appError.message;
  if (appError.code === 'UNAUTHENTICATED') {
    status = 403;
    message = request.headers['x-vault-token'] || request.headers.authorization ? 'the token is invalid or has expired' : 'send a Coffer API token in X-Vault-Token or Authorization: Bearer';
  }
  if (status === 403) message = `permission denied: ${message}`;
  if (status === 500) message = `internal error; quote request id ${request.id}`;
  return reply.code(status).type('application/json').send({ errors: [message] });
}

/** Vault's answer to an empty listing: 404 with no errors. */
function keysOrNotFound(request: FastifyRequest, reply: FastifyReply, keys: string[]) {
  if (keys.length === 0) return reply.code(404).type('application/json').send({ errors: [] });
  return reply.send(envelope(request, { keys }));
}

/**
 * The Vault-compatible KV v2 read API (issue 14 §1), mounted at /v1. Each organization is a
 * KV v2 mount named by its slug: `<org>/data/<project>/<environment>[/<service>]`.
 */
export function vaultRoutes(app: App, service: VaultService) {
  app.setErrorHandler((error: FastifyError, request, reply) => sendVaultError(request, reply, error));
  const noHandler = (request: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(404)
      .type('application/json')
      .send({ errors: [`no handler for ${request.method} ${request.url.split('?')[0]}: Coffer serves Vault's KV v2 read API at /v1/<org>/data/<project>/<environment>[/<service>] and /v1/<org>/metadata/…`] });
  app.setNotFoundHandler(noHandler);
  // Any other GET under /v1 is Vault's 404, not the console's page (its catch-all is `/*`).
  app.get('/*', { config: { access: 'public' }, schema: { hide: true, querystring: { type: 'object', additionalProperties: true } } }, noHandler);

  app.get('/sys/health', {
    config: { access: 'public' },
    schema: { tags, summary: 'Vault health: always initialized and unsealed', response: { 200: HealthResponse } },
    handler: async () => ({
      initialized: true,
      sealed: false,
      standby: false,
      performance_standby: false,
      replication_performance_mode: 'disabled',
      replication_dr_mode: 'disabled',
      server_time_utc: Math.floor(Date.now() / 1000),
      version: `coffer-${VERSION}`,
      cluster_name: 'coffer',
    }),
  });

  app.get('/auth/token/lookup-self', {
    config: { access: 'principal' },
    schema: { tags, summary: "The calling token's metadata: policies are its scopes, ttl the seconds to its expiry (0: never), not renewable", response: { 200: TokenLookupResponse, ...vaultErrorResponses } },
    handler: async (request) => envelope(request, await service.lookupSelf(principalOf(request))),
  });

  app.get('/sys/mounts', {
    config: { access: 'principal' },
    schema: { tags, summary: 'The KV v2 mounts the caller has: one per organization', response: { 200: MountsResponse, ...vaultErrorResponses } },
    handler: async (request) => {
      const mounts = await service.mounts(principalOf(request));
      // Vault repeats the mounts at the top level for older clients.
      return { ...mounts, ...envelope(request, mounts) };
    },
  });

  for (const [url, hide] of [['/sys/internal/ui/mounts/:org', false], ['/sys/internal/ui/mounts/:org/*', true]] as const) {
    app.get(url, {
      config: { access: 'principal' },
      schema: { tags, hide, summary: 'The mount a path is under (how clients detect KV v2: options.version "2")', params: MountPathParams, response: { 200: MountResponse, ...vaultErrorResponses } },
      handler: async (request) => envelope(request, await service.mount(principalOf(request), (request.params as { org: string }).org)),
    });
  }

  const data: { path: string; params: TSchema; resource: ResourceKind }[] = [
    { path: '/:org/data/:project/:env', params: EnvironmentParams, resource: 'environment' },
    { path: '/:org/data/:project/:env/:service', params: ServiceParams, resource: 'service' },
  ];
  for (const { path, params, resource } of data) {
    app.get(path, {
      config: { access: { action: 'secret:decrypt', resource } },
      schema: {
        tags,
        summary: `Read ${resource === 'service' ? 'a service' : 'an environment'} resolved, as KV v2 data`,
        description:
          'The same resolution as …/resolve (precedence, references, member rules; pg_service entries left out), as `data.data`. The path version counts the changes to variables that reach it; only the current one can be read (`?version=` of another is a 404). Recorded as READ_SECRET with tool VAULT_API.',
        params,
        querystring: DataQuery,
        response: { 200: DataResponse, ...vaultErrorResponses },
      },
      handler: async (request, reply) => {
        const { data, metadata } = await service.read(accessOf(request), (request.query as { version?: number }).version);
        // The envelope around the resolver's JSON text, spliced rather than parsed and re-serialised.
        const around = JSON.stringify(envelope(request, { data: '\u0000', metadata })).split('"\\u0000"');
        return reply.type('application/json').header('cache-control', 'no-store').send(`${around[0]}${data}${around[1]}` as never);
      },
    });
  }

  const metadata: { path: string; params: TSchema; action: Action; resource: ResourceKind }[] = [
    { path: '/:org/metadata', params: OrgParams, action: 'organization:read', resource: 'organization' },
    { path: '/:org/metadata/:project', params: ProjectParams, action: 'project:read', resource: 'project' },
    { path: '/:org/metadata/:project/:env', params: EnvironmentParams, action: 'service:read', resource: 'environment' },
    { path: '/:org/metadata/:project/:env/:service', params: ServiceParams, action: 'secret:read', resource: 'service' },
  ];
  // Only GET ?list=true: the LIST verb never reaches a Node.js server (its HTTP parser, and so
  // Fastify's addHttpMethod, know no such method). Go clients send GET ?list=true anyway.
  for (const { path, params, action, resource } of metadata) {
    const list = async (request: FastifyRequest, reply: FastifyReply) => {
      const access = accessOf(request);
      if (resource === 'organization') return keysOrNotFound(request, reply, await service.listProjects(access));
      if (resource === 'project') return keysOrNotFound(request, reply, await service.listEnvironments(accessOf(request, 'project')));
      if (resource === 'environment') return keysOrNotFound(request, reply, await service.listServices(accessOf(request, 'environment')));
      throw service.notFolder(access);
    };
    for (const url of [path, `${path}/`]) {
      const config = { access: { action, resource } };
      app.get(url, {
        config,
        schema: {
          tags,
          hide: url.endsWith('/'),
          summary: resource === 'organization' || resource === 'project' ? 'List a folder (?list=true)' : 'KV v2 metadata of a readable path, or with ?list=true its children',
          description: `Needs ${action}; folders list what the caller may see: projects as \`shop/\`, environments as both \`production\` (readable) and \`production/\`, services. Reading metadata (no ?list) also needs secret:read.`,
          params,
          querystring: MetadataQuery,
          response: { 200: { anyOf: [ListResponse, MetadataResponse] }, ...vaultErrorResponses },
        },
        handler: async (request, reply) => {
          if (isListing(request.query as { list?: string })) return list(request, reply);
          const access = accessOf(request);
          if (resource === 'organization' || resource === 'project') {
            return reply.code(404).type('application/json').send({ errors: ['this path is a folder: LIST it, or GET it with ?list=true'] });
          }
          access.require('secret:read', resourceOf(access.scope, resource));
          return envelope(request, await service.metadata(access));
        },
      });
    }
  }

  // Read-only: Coffer's own API and CLI are the way to write (versions, audit, immutability).
  app.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/*',
    config: { access: 'principal' },
    schema: { hide: true },
    handler: async (request, reply) =>
      reply
        .code(405)
        .type('application/json')
        .send({ errors: [`Coffer's Vault API is read-only: ${request.method} is not supported; write variables with the Coffer API (POST /api/v1/orgs/{org}/…/variables) or \`coffer variables set\``] }),
  });
}
