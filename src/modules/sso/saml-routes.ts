import { ssoRefusalHandler } from './console-refusal.js';
import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../kernel/http/app-types.js';
import { toolOf } from '../../kernel/http/audit-context.js';
import { errorResponses } from '../../kernel/http/schemas.js';
import { setSessionCookies } from '../accounts/routes.js';
import type { SamlService } from './saml-service.js';
import { SAML_ACS_PATH, SamlMetadataParams, samlMetadataPath } from './saml-schemas.js';

/** Binds a started SAML sign-in to the browser that started it; read back only by the ACS. */
const STATE_COOKIE = 'coffer_saml_state';
/** An IdP's response with its signature and certificate fits easily; anything larger is not one. */
const FORM_LIMIT = 512 * 1024;

const tags = ['sso'];

/**
 * The IdP POSTs to the ACS from its own site: a SameSite=Lax cookie would not come along, so
 * over https the state cookie is SameSite=None (Secure); over plain http (development on one
 * host, where the IdP is same-site) it stays Lax.
 */
export function setSamlStateCookie(request: FastifyRequest, reply: FastifyReply, state: string, apiPrefix: string) {
  const https = request.protocol === 'https';
  reply.setCookie(STATE_COOKIE, state, { path: `${apiPrefix}${SAML_ACS_PATH}`, httpOnly: true, sameSite: https ? 'none' : 'lax', secure: https, maxAge: 600 });
}

export function samlRoutes(app: App, service: SamlService, options: { apiPrefix: string; sessionTtlSeconds: number }) {
  // The OIDC callback URL as the browser reached this server: the SAML endpoints sit beside it.
  const callbackUrl = (request: FastifyRequest) => `${request.protocol}://${request.host}${options.apiPrefix}/auth/sso/callback`;

  app.get(samlMetadataPath(':provider_id'), {
    config: { access: 'public' },
    schema: {
      tags,
      summary: "Coffer's SAML service provider metadata for one provider (entity ID, ACS URL), for the identity provider to import",
      params: SamlMetadataParams,
      response: { 200: { description: 'SAML 2.0 metadata', content: { 'application/samlmetadata+xml': { schema: { type: 'string' } } } }, ...errorResponses },
    },
    handler: async (request, reply) => reply.type('application/samlmetadata+xml').send(await service.metadata(request.params.provider_id, callbackUrl(request))),
  });

  // The ACS takes the HTTP-POST binding's form; only this route parses form bodies.
  app.register(async (scope: App) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    scope.post(SAML_ACS_PATH, {
      config: { access: 'public' },
      // A browser the IdP posted here lands on the sign-in page with the refusal, like OIDC's callback.
      errorHandler: ssoRefusalHandler,
      schema: {
        tags,
        summary: "SAML Assertion Consumer Service (HTTP-POST binding): verifies the IdP's response, opens a session and 302s to the console",
        consumes: ['application/x-www-form-urlencoded'],
        body: Type.Object({ SAMLResponse: Type.String({ maxLength: FORM_LIMIT }), RelayState: Type.String({ maxLength: 200 }) }, { additionalProperties: false }),
        response: { 302: Type.Null(), ...errorResponses },
      },
      handler: async (request, reply) => {
        const client = { ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null };
        const bound = request.cookies?.[STATE_COOKIE];
        reply.clearCookie(STATE_COOKIE, { path: `${options.apiPrefix}${SAML_ACS_PATH}` });
        const { token, csrfToken } = await service.acs(request.body, bound, client, { tool: toolOf(request), ip: client.ip, requestId: request.id });
        setSessionCookies(request, reply, token, csrfToken, options.sessionTtlSeconds);
        return reply.redirect('/', 302);
      },
    });
  });
}
