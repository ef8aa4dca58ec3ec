import type { Kysely } from 'kysely';
import type { Invalidation } from '../../kernel/cache/invalidation.js';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import type { PlacingRepo } from '../authz/scope-repo.js';
import { tokenRoutes } from './routes.js';
import { createTokensService } from './service.js';

/** API tokens; the guard authenticates programs through `authenticate`. */
export function register(app: App, deps: { db: Kysely<Database>; scopeRepo: PlacingRepo; invalidation: Invalidation }) {
  const tokens = createTokensService(deps);
  tokenRoutes(app, tokens);
  return { authenticate: tokens.authenticate, principalById: tokens.principalById };
}
