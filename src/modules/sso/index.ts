import { resolveTxt } from 'node:dns/promises';
import type { Kysely } from 'kysely';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import type { AccountsService } from '../accounts/service.js';
import { createSsoEnforcement } from './enforce.js';
import { createOidc } from './oidc.js';
import { ssoRoutes } from './routes.js';
import { samlRoutes } from './saml-routes.js';
import { createSamlService } from './saml-service.js';
import { createSsoService } from './service.js';
import { ssoSettingsRoutes } from './settings-routes.js';
import { createSsoSettingsService, type TxtResolver } from './settings-service.js';

export type { TxtResolver } from './settings-service.js';

/**
 * Single sign-on per organization (issue #15): OpenID Connect and SAML 2.0 providers, sign-in through them
 * with just-in-time provisioning and roles from a groups claim, verified email domains, and
 * enforcement (returned for the guard to call once a request's organization is known).
 */
export function register(
  app: App,
  deps: {
    db: Kysely<Database>;
    keyring: Keyring;
    openSession: AccountsService['openSession'];
    apiPrefix: string;
    sessionTtlSeconds: number;
    /** DNS TXT lookups for domain verification; tests pass their own. */
    resolveTxt?: TxtResolver;
  },
) {
  const saml = createSamlService({ db: deps.db, openSession: deps.openSession });
  const service = createSsoService({ db: deps.db, keyring: deps.keyring, oidc: createOidc(), saml, openSession: deps.openSession });
  ssoRoutes(app, service, { apiPrefix: deps.apiPrefix, sessionTtlSeconds: deps.sessionTtlSeconds });
  samlRoutes(app, saml, { apiPrefix: deps.apiPrefix, sessionTtlSeconds: deps.sessionTtlSeconds });
  ssoSettingsRoutes(app, createSsoSettingsService({ db: deps.db, resolveTxt: deps.resolveTxt ?? resolveTxt }));
  return { enforce: createSsoEnforcement(deps.db) };
}
