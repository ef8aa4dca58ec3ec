import type { Kysely } from 'kysely';
import type { Invalidation } from '../../kernel/cache/invalidation.js';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import type { Principal } from '../../kernel/principal.js';
import type { TokensService } from '../tokens/service.js';
import { createAuthzCheck } from './check.js';
import { createGrantsLoader } from './grants-loader.js';
import type { CustomRoleDefinition } from './grants.js';
import { withPlacementCache } from './placement-cache.js';
import { createMembershipCache } from './membership-cache.js';
import { authzRoutes } from './routes.js';
import type { ScopeParams } from '../../kernel/authz/scope.js';
import { resolveScope } from './resolve-scope.js';
import { createScopeRepo } from './scope-repo.js';

/**
 * Where a request stands and what its principal holds there, for the guard on every request
 * and for tokens placed in the hierarchy. Placements and memberships are cached, so the
 * services that edit or delete part of the hierarchy call `hierarchyChanged`, and those that
 * change memberships or custom roles call a `membershipPublisher` (membership-cache.ts).
 */
export function createScopes(deps: {
  db: Kysely<Database>;
  invalidation: Invalidation;
  roleDefinition(roleId: string): Promise<(CustomRoleDefinition & { version: number }) | undefined>;
}) {
  const repo = createScopeRepo(deps.db);
  const memberships = createMembershipCache(repo.membership, deps.invalidation);
  const scopeRepo = withPlacementCache(repo, deps.invalidation, memberships);
  const grantsLoader = createGrantsLoader(deps.roleDefinition);
  return {
    scopeRepo,
    grantsLoader,
    resolveScope: (principal: Principal, params: ScopeParams) => resolveScope(scopeRepo, grantsLoader, principal, params),
    hierarchyChanged: scopeRepo.hierarchyChanged,
  };
}

export type Scopes = ReturnType<typeof createScopes>;

/** `authz/check`: may this principal do that, and why. */
export function register(app: App, deps: { scopes: Pick<Scopes, 'scopeRepo' | 'grantsLoader'>; tokens: Pick<TokensService, 'principalById'> }) {
  authzRoutes(app, createAuthzCheck({ scopeRepo: deps.scopes.scopeRepo, grantsLoader: deps.scopes.grantsLoader, tokens: deps.tokens }));
}
