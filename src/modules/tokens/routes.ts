import { Type } from 'typebox';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf, principalOf } from '../../kernel/http/context.js';
import { AppError } from '../../kernel/errors.js';
import { errorResponses, OrgParams, noContent } from '../../kernel/http/schemas.js';
import type { TokenRow } from './repo.js';
import { CreateTokenBody, CreatedToken, CurrentToken, TokenParams, TokenView } from './schemas.js';
import { pathName, type TokensService } from './service.js';

const tags = ['tokens'];

function toTokenView(row: TokenRow) {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes,
    path: pathName(row),
    prefix: row.prefix,
    created_by: row.created_by && row.creator_email ? { user_id: row.created_by, email: row.creator_email } : null,
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at?.toISOString() ?? null,
    last_used_at: row.last_used_at?.toISOString() ?? null,
  };
}

export function tokenRoutes(app: App, service: TokensService) {
  app.get('/token', {
    config: { access: 'principal' },
    schema: {
      tags,
      summary: 'The API token sending this request: its organization, scopes and path (signed-in people see themselves at GET /me)',
      response: { 200: CurrentToken, ...errorResponses },
    },
    handler: async (request) => {
      const principal = principalOf(request);
      if (principal.kind !== 'token') throw new AppError('BAD_REQUEST', 'GET /token describes the API token sending it; you are signed in as a person: see GET /me');
      const { row, organization } = await service.describe(principal);
      return { ...toTokenView(row), organization };
    },
  });

  app.get('/orgs/:org/tokens', {
    config: { access: { action: 'token:manage', resource: 'organization' } },
    schema: { tags, summary: 'API tokens (never the token itself)', params: OrgParams, response: { 200: Type.Object({ items: Type.Array(TokenView) }), ...errorResponses } },
    handler: async (request) => ({ items: (await service.list(accessOf(request))).map(toTokenView) }),
  });

  app.post('/orgs/:org/tokens', {
    config: { access: { action: 'token:manage', resource: 'organization' } },
    schema: {
      tags,
      summary: 'Create an API token with scopes you hold yourself over its whole path; the token is in the response, once',
      params: OrgParams,
      body: CreateTokenBody,
      response: { 201: CreatedToken, ...errorResponses },
    },
    handler: async (request, reply) => {
      const { token, row } = await service.create(accessOf(request), request.body);
      return reply.code(201).send({ ...toTokenView(row), token });
    },
  });

  app.delete('/orgs/:org/tokens/:token_id', {
    config: { access: { action: 'token:manage', resource: 'organization' } },
    schema: {
      tags,
      summary: 'Revoke an API token; it is refused from the next request on',
      params: TokenParams,
      response: { 204: Type.Null(), ...errorResponses },
    },
    handler: async (request, reply) => noContent(reply, service.revoke(accessOf(request), request.params.token_id)),
  });
}
