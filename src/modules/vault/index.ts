import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { API_TOKEN_PREFIX } from '../../kernel/crypto/api-token.js';
import type { Database } from '../../kernel/db/schema.js';
import type { Invalidation } from '../../kernel/cache/invalidation.js';
import type { App } from '../../kernel/http/app-types.js';
import type { Scopes } from '../authz/index.js';
import type { ServiceOutputs } from '../services/outputs.js';
import type { Resolver } from '../variables/resolver.js';
import type { ProjectListing } from '../projects/list-cache.js';
import { recordDeniedRequests } from '../audit/access-denied.js';
import { vaultRoutes } from './routes.js';
import { createVaultService } from './service.js';

/** The Vault-compatible KV v2 read API; register it under the /v1 prefix, in its own context (Vault-shaped errors). */
export function register(app: App, deps: { db: Kysely<Database>; resolver: Resolver; projectListing: ProjectListing; outputs: ServiceOutputs; scopes: Pick<Scopes, 'resolveScope'>; invalidation: Invalidation }) {
  // The audit module's hook lives in the /api/v1 context: refusals here are recorded by their own.
  recordDeniedRequests(app, deps.db);
  vaultRoutes(app, createVaultService(deps));
}

/**
 * Vault clients send their token in X-Vault-Token: accepted on the Vault API only, and only an
 * API token (a session stays in Authorization or its cookie, where CSRF rules apply).
 */
export function vaultCredential(request: FastifyRequest): { token: string; via: 'header' } | undefined {
  const token = request.headers['x-vault-token'];
  if (typeof token !== 'string' || !request.url.startsWith('/v1/')) return undefined;
  return { token: token.startsWith(API_TOKEN_PREFIX) ? token : '', via: 'header' };
}
