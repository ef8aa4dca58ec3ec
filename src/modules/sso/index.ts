import type { Kysely } from 'kysely';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import type { AccountsService } from '../accounts/service.js';
import { createOidc } from './oidc.js';
import { ssoRoutes } from './routes.js';
import { createSsoService } from './service.js';

/** Single sign-on per organization (issue #15): OpenID Connect providers and the sign-in through them. */
export function register(
  app: App,
  deps: { db: Kysely<Database>; keyring: Keyring; openSession: AccountsService['openSession']; apiPrefix: string; sessionTtlSeconds: number },
) {
  const service = createSsoService({ db: deps.db, keyring: deps.keyring, oidc: createOidc(), openSession: deps.openSession });
  ssoRoutes(app, service, { apiPrefix: deps.apiPrefix, sessionTtlSeconds: deps.sessionTtlSeconds });
}
