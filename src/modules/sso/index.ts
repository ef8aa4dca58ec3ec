import { Resolver, resolveTxt } from 'node:dns/promises';
import type { Kysely } from 'kysely';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import type { AccountsService } from '../accounts/service.js';
import { ssoDiscoveryRoutes } from './discover.js';
import { createSsoEnforcement } from './enforce.js';
import { createOidc } from './oidc.js';
import { ssoRoutes } from './routes.js';
import { samlRoutes } from './saml-routes.js';
import { createSamlService } from './saml-service.js';
import { createSsoService } from './service.js';
import { ssoSettingsRoutes } from './settings-routes.js';
import { createSsoSync, ssoSyncRoutes } from './sync.js';
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
    /** DNS servers to ask instead of the system's (COFFER_DNS_SERVERS). */
    dnsServers?: string[];
  },
) {
  const oidc = createOidc();
  const saml = createSamlService({ db: deps.db, openSession: deps.openSession });
  const service = createSsoService({ db: deps.db, keyring: deps.keyring, oidc, saml, openSession: deps.openSession });
  ssoRoutes(app, service, { apiPrefix: deps.apiPrefix, sessionTtlSeconds: deps.sessionTtlSeconds });
  samlRoutes(app, saml, { apiPrefix: deps.apiPrefix, sessionTtlSeconds: deps.sessionTtlSeconds });
  ssoSyncRoutes(app, createSsoSync({ db: deps.db, keyring: deps.keyring, oidc }));
  ssoDiscoveryRoutes(app, { db: deps.db, apiPrefix: deps.apiPrefix });
  ssoSettingsRoutes(app, createSsoSettingsService({ db: deps.db, resolveTxt: deps.resolveTxt ?? systemResolver(deps.dnsServers) }));
  return { enforce: createSsoEnforcement(deps.db) };
}

function systemResolver(servers: string[] | undefined): TxtResolver {
  if (!servers) return resolveTxt;
  const resolver = new Resolver({ timeout: 5000, tries: 2 });
  resolver.setServers(servers);
  return (name) => resolver.resolveTxt(name);
}
