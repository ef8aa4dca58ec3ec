import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { describeAction, isAction } from '../authz/catalogue.js';
import type { Access } from './guard.js';

/**
 * The OpenAPI 3 document is generated from the same route schemas that validate
 * requests; each operation also says which action it needs (`x-coffer-action`).
 */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Coffer API',
        version,
        description: 'Secrets and access control for teams that deploy software.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'A session token from /auth/login, or an API token (cfr_…); `Authorization: Token …` works too',
          },
          session: { type: 'apiKey', in: 'cookie', name: 'coffer_session' },
          vaultToken: { type: 'apiKey', in: 'header', name: 'X-Vault-Token', description: 'An API token (cfr_…), on the Vault-compatible API (/v1/…) only' },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      const access = route.config?.access as Access | undefined;
      const transformed: Record<string, unknown> = { ...(schema as Record<string, unknown>) };
      if (access === 'public') {
        transformed.security = [];
      } else if (access !== undefined) {
        transformed.security = url.startsWith('/v1/') ? [{ vaultToken: [] }, { bearer: [] }] : [{ bearer: [] }, { session: [] }];
        if (typeof access === 'object' && isAction(access.action)) {
          transformed['x-coffer-action'] = access.action;
          const needs = `Needs \`${access.action}\` (${describeAction(access.action)}) on the ${access.resource}.`;
          transformed.description = transformed.description ? `${String(transformed.description)}\n\n${needs}` : needs;
        }
      }
      return { schema: transformed, url };
    },
  });
}
