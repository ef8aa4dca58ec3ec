import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { App } from '../../kernel/http/app-types.js';
import { toolOf } from '../../kernel/http/audit-context.js';
import { accessOf } from '../../kernel/http/context.js';
import { OrgParams, errorResponses, noContent } from '../../kernel/http/schemas.js';
import { setSessionCookies } from '../accounts/routes.js';
import { ssoRefusalHandler } from './console-refusal.js';
import type { SsoService } from './service.js';
import { setSamlStateCookie } from './saml-routes.js';
import { CallbackQuery, CreateProviderBody, ProviderParams, ProviderView, PublicProvidersView, StartParams, StartQuery, UpdateProviderBody, toProviderView } from './schemas.js';

/** Binds a started sign-in to the browser that started it; read back only by the callback. */
const STATE_COOKIE = 'coffer_sso_state';

const tags = ['sso'];
const setup = { access: { action: 'organization:setup' as const, resource: 'organization' as const } };

export function ssoRoutes(app: App, service: SsoService, options: { apiPrefix: string; sessionTtlSeconds: number }) {
  const callbackPath = `${options.apiPrefix}/auth/sso/callback`;
  // Where the IdP sends the browser back: this server as the browser reached it.
  const redirectUri = (request: FastifyRequest) => `${request.protocol}://${request.host}${callbackPath}`;

  app.post('/orgs/:org/sso/providers', {
    config: setup,
    schema: { tags, summary: 'Add an OpenID Connect identity provider (the client secret is stored encrypted and never returned) or a SAML 2.0 one (from its metadata)', params: OrgParams, body: CreateProviderBody, response: { 201: ProviderView, ...errorResponses } },
    handler: async (request, reply) => reply.code(201).send(toProviderView(await service.create(accessOf(request), request.body), redirectUri(request))),
  });

  app.get('/orgs/:org/sso/providers', {
    config: setup,
    schema: { tags, summary: "The organization's identity providers", params: OrgParams, response: { 200: Type.Object({ items: Type.Array(ProviderView) }), ...errorResponses } },
    handler: async (request) => ({ items: (await service.list(accessOf(request))).map((p) => toProviderView(p, redirectUri(request))) }),
  });

  app.get('/orgs/:org/sso/providers/:provider_id', {
    config: setup,
    schema: { tags, summary: 'One identity provider', params: ProviderParams, response: { 200: ProviderView, ...errorResponses } },
    handler: async (request) => toProviderView(await service.get(accessOf(request), request.params.provider_id), redirectUri(request)),
  });

  app.patch('/orgs/:org/sso/providers/:provider_id', {
    config: setup,
    schema: { tags, summary: 'Edit an identity provider; a client_secret given replaces the stored one and is never returned', params: ProviderParams, body: UpdateProviderBody, response: { 200: ProviderView, ...errorResponses } },
    handler: async (request) => toProviderView(await service.update(accessOf(request), request.params.provider_id, request.body), redirectUri(request)),
  });

  app.delete('/orgs/:org/sso/providers/:provider_id', {
    config: setup,
    schema: { tags, summary: 'Remove an identity provider', params: ProviderParams, response: { 204: Type.Null(), ...errorResponses } },
    handler: async (request, reply) => noContent(reply, service.delete(accessOf(request), request.params.provider_id)),
  });

  app.get('/auth/sso/:org/providers', {
    config: { access: 'public' },
    schema: { tags, summary: "The organization's identity providers, for the sign-in page (names only; 404 when it has none)", params: StartParams, response: { 200: PublicProvidersView, ...errorResponses } },
    handler: async (request) => ({
      items: (await service.publicProviders(request.params.org)).map((p) => ({ ...p, start_url: `${options.apiPrefix}/auth/sso/${request.params.org}/start?provider=${p.id}` })),
    }),
  });

  // A browser reaching start or the callback is sent to the console's sign-in page when refused.
  app.get('/auth/sso/:org/start', {
    config: { access: 'public' },
    errorHandler: ssoRefusalHandler,
    schema: { tags, summary: "Sign in through the organization's identity provider: 302 to it", params: StartParams, querystring: StartQuery, response: { 302: Type.Null(), ...errorResponses } },
    handler: async (request, reply) => {
      const { url, state, protocol } = await service.start(request.params.org, request.query.provider, redirectUri(request));
      if (protocol === 'saml') setSamlStateCookie(request, reply, state, options.apiPrefix);
      else reply.setCookie(STATE_COOKIE, state, { path: callbackPath, httpOnly: true, sameSite: 'lax', secure: request.protocol === 'https', maxAge: 600 });
      return reply.redirect(url, 302);
    },
  });

  app.get('/auth/sso/callback', {
    config: { access: 'public' },
    errorHandler: ssoRefusalHandler,
    schema: { tags, summary: "Where the identity provider returns: opens a session and 302s to the console", querystring: CallbackQuery, response: { 302: Type.Null(), ...errorResponses } },
    handler: async (request, reply) => {
      const client = { ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null };
      const bound = request.cookies?.[STATE_COOKIE];
      reply.clearCookie(STATE_COOKIE, { path: callbackPath });
      const { token, csrfToken } = await service.callback(request.query, bound, client, { tool: toolOf(request), ip: client.ip, requestId: request.id });
      setSessionCookies(request, reply, token, csrfToken, options.sessionTtlSeconds);
      return reply.redirect('/', 302);
    },
  });
}
