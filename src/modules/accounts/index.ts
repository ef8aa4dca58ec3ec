import type { Config } from '../../config.js';
import type { Invalidation } from '../../kernel/cache/invalidation.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import type { AttemptLimits } from './rate-limit.js';
import { createAccountsRepo } from './repo.js';
import { accountsRoutes } from './routes.js';
import { createAccountsService } from './service.js';

export { sessionCredential, setSessionCookies } from './routes.js';

/** Sign-up, sign-in and sessions; the guard authenticates people through `authenticate`. */
export function register(
  app: App,
  deps: {
    db: Kysely<Database>;
    config: Config;
    invalidation: Invalidation;
    limits: Pick<AttemptLimits, 'signup' | 'login'>;
    hasPendingInvitation(email: string): Promise<boolean>;
  },
) {
  const { db, ...rest } = deps;
  const accounts = createAccountsService({ repo: createAccountsRepo(db), ...rest });
  accountsRoutes(app, accounts, deps.config.sessionTtlSeconds);
  return { authenticate: accounts.authenticate, openSession: accounts.openSession };
}
