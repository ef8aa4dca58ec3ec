import { Type } from 'typebox';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf } from '../../kernel/http/context.js';
import { Uuid, errorResponses, OrgParams } from '../../kernel/http/schemas.js';
import type { AuthzCheck } from './check.js';

const CheckBody = Type.Object(
  {
    principal: Type.Optional(
      Type.Object(
        { user_id: Type.Optional(Uuid), token_id: Type.Optional(Uuid) },
        { additionalProperties: false, minProperties: 1, maxProperties: 1, description: 'Omit to ask about yourself' },
      ),
    ),
    action: Type.String({ minLength: 1, maxLength: 100, description: 'An action of the catalogue, e.g. secret:write' }),
    resource: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: '"project", "project/environment", "project/environment/service" or "cluster:<id>"; omit for the organization',
      }),
    ),
  },
  { additionalProperties: false },
);

const CheckResponse = Type.Object({
  allowed: Type.Boolean(),
  reason: Type.String(),
  user_id: Type.Optional(Uuid),
  token_id: Type.Optional(Uuid),
});

export function authzRoutes(app: App, check: AuthzCheck) {
  app.post('/orgs/:org/authz/check', {
    // Anyone may ask about themselves; about someone else needs authz:check (checked inside).
    config: { access: { action: 'organization:read', resource: 'organization' } },
    schema: {
      tags: ['authorization'],
      summary: 'May a principal do an action on a resource, and why',
      params: OrgParams,
      body: CheckBody,
      response: { 200: CheckResponse, ...errorResponses },
    },
    handler: async (request) => check(accessOf(request), request.body),
  });
}
