import { randomUUID } from 'node:crypto';
import { AjvCompiler } from '@fastify/ajv-compiler';
import cookie from '@fastify/cookie';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import { ping } from './kernel/db/connect.js';
import type { Database } from './kernel/db/schema.js';
import type { App } from './kernel/http/app-types.js';
import { installErrorHandler } from './kernel/http/error-handler.js';
import { installGuard } from './kernel/http/guard.js';
import { useStrictFormats } from './kernel/http/schemas.js';
import { installTextInputCheck } from './kernel/http/text-input.js';
import { refuseUnknownQueryParameters } from './kernel/http/query.js';
import { registerOpenApi } from './kernel/http/openapi.js';
import { accountsRoutes, sessionCredential } from './modules/accounts/routes.js';
import { createAccountsRepo } from './modules/accounts/repo.js';
import { createAccountsService } from './modules/accounts/service.js';
import { createAttemptLimits } from './modules/accounts/rate-limit.js';
import { engineAuthorizer, type Authorizer } from './modules/authz/authorizer.js';
import { createGrantsLoader } from './modules/authz/grants-loader.js';
import { ACTIONS, actionLevel, describeAction } from './modules/authz/catalogue.js';
import { roleRoutes } from './modules/roles/routes.js';
import { authzRoutes } from './modules/authz/routes.js';
import { createAuthzCheck } from './modules/authz/check.js';
import { tokenRoutes } from './modules/tokens/routes.js';
import { auditRoutes } from './modules/audit/routes.js';
import { createAuditService } from './modules/audit/service.js';
import { openAuditKeys, type AuditKeys } from './modules/audit/audit-keys.js';
import { recordDeniedRequests } from './modules/audit/access-denied.js';
import { createTokensService } from './modules/tokens/service.js';
import { API_TOKEN_PREFIX } from './kernel/crypto/api-token.js';
import { createRolesService } from './modules/roles/service.js';
import { resolveScope } from './modules/authz/scope.js';
import { createScopeRepo } from './modules/authz/scope-repo.js';
import { withPlacementCache } from './modules/authz/placement-cache.js';
import { organizationRoutes } from './modules/organizations/routes.js';
import { createOrganizationsService } from './modules/organizations/service.js';
import { clusterRoutes } from './modules/clusters/routes.js';
import { createClustersService } from './modules/clusters/service.js';
import { environmentRoutes } from './modules/environments/routes.js';
import { createEnvironmentsService } from './modules/environments/service.js';
import { projectRoutes } from './modules/projects/routes.js';
import { createProjectsService } from './modules/projects/service.js';
import { serviceRoutes } from './modules/services/routes.js';
import { createServicesService } from './modules/services/service.js';
import { createServiceOutputs } from './modules/services/outputs.js';
import { createMembersService } from './modules/members/service.js';
import { memberRoutes } from './modules/members/routes.js';
import { AppError } from './kernel/errors.js';
import { createLocalInvalidation, type Invalidation } from './kernel/cache/invalidation.js';
import { LocalKeyProvider, type KeyProvider } from './kernel/crypto/key-provider.js';
import { createReadAuditBatcher } from './modules/audit/read-batcher.js';
import { createKeySets } from './modules/audit/key-sets.js';
import { createKeyring } from './kernel/crypto/keyring.js';
import { ResolutionCache } from './modules/variables/resolution-cache.js';
import { createResolver, type ResolutionInputs } from './modules/variables/resolver.js';
import { variableRoutes } from './modules/variables/routes.js';
import { createVariablesService } from './modules/variables/service.js';

export const API_PREFIX = '/api/v1';
export { VERSION } from './version.js';
import { VERSION } from './version.js';

export interface AppOptions {
  config: Config;
  db: Kysely<Database>;
  /** The server's pino logger; tests pass none and get no logging. */
  logger?: FastifyBaseLogger;
  authorizer?: Authorizer;
  /** The 32-byte root key (see kernel/crypto/root-key.ts); keys outside the database derive from it. */
  rootKey: Buffer;
  /** How caches learn of changes made elsewhere; defaults to in-process (one instance). */
  invalidation?: Invalidation;
  /** Wraps data keys; defaults to the local provider under the root key. */
  keyProvider?: KeyProvider;
  /** The audit log's signing and HMAC keys, when the caller opened them already (the server does, for housekeeping). */
  auditKeys?: AuditKeys;
}

const ajvCompilers = AjvCompiler();

const TRACE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Query strings and path parameters arrive as text and are coerced to their schema types;
 * JSON bodies are not: `{"value": null}` or `{"value": 5}` is a 400, never an empty or
 * stringified secret.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Fastify's compiler-factory types do not line up with ajv-compiler's
const strictBodies = (externalSchemas: any, options: any) => {
  const coercing = ajvCompilers(externalSchemas, options);
  const strict = ajvCompilers(externalSchemas, { ...options, customOptions: { ...options.customOptions, coerceTypes: false } });
  return (route: { httpPart?: string }) => (route.httpPart === 'body' ? strict(route as never) : coercing(route as never));
};

/** Builds the whole HTTP application over an open database: the composition root. */
export async function buildApp(options: AppOptions): Promise<App> {
  const { config, db } = options;
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    trustProxy: config.trustProxy,
    // Variables of type file may hold 1 MiB, which JSON escaping can grow.
    bodyLimit: 3 * 1024 * 1024,
    // A caller's X-Request-Id is kept for tracing only when it looks like an id: it is echoed,
    // logged and stored in audit events, so anything longer or stranger gets a fresh UUID.
    requestIdHeader: false,
    genReqId: (request) => {
      const offered = request.headers['x-request-id'];
      return typeof offered === 'string' && TRACE_ID.test(offered) ? offered : randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false }, onCreate: useStrictFormats },
    schemaController: { compilersFactory: { buildValidator: strictBodies as never } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Before any route is registered: the hook completes each route's querystring schema.
  refuseUnknownQueryParameters(app);

  // JSON only: a text/plain body is a 415, not a string that fails validation obscurely.
  app.removeContentTypeParser('text/plain');
  await app.register(cookie);
  await registerOpenApi(app, VERSION);
  installErrorHandler(app);
  installTextInputCheck(app);

  const invalidation = options.invalidation ?? createLocalInvalidation();
  const scopeRepo = withPlacementCache(createScopeRepo(db), invalidation);
  const limits = createAttemptLimits(db, config.rateLimits);
  const accounts = createAccountsService({
    repo: createAccountsRepo(db),
    config,
    hasPendingInvitation: (email) => members.hasPendingInvitation(email),
    invalidation,
    limits,
  });
  const members = createMembersService({ db });
  const authorizer = options.authorizer ?? engineAuthorizer;
  const roles = createRolesService({ db });
  const grantsLoader = createGrantsLoader((roleId) => roles.definition(roleId));

  const tokens = createTokensService({ db, scopeRepo, invalidation });

  const keyProvider = options.keyProvider ?? new LocalKeyProvider(options.rootKey);
  const keyring = createKeyring({ db, provider: keyProvider });
  const auditKeys = options.auditKeys ?? (await openAuditKeys(db, options.rootKey, keyProvider));
  const resolutions = new ResolutionCache<ResolutionInputs>(invalidation);
  const changed = (organizationId: string) => resolutions.changed(organizationId);
  const variables = createVariablesService({ db, keyring, valueHmac: auditKeys.valueHmac, changed });
  const outputs = createServiceOutputs(keyring);
  const resolver = createResolver({ db, keyring, readAudit: createReadAuditBatcher(db), keySets: createKeySets(db), outputs, cache: resolutions });

  installGuard(app, {
    async authenticate(request) {
      const credential = sessionCredential(request);
      if (!credential) return null;
      // One authentication step for people and programs: API tokens by their prefix.
      const principal = credential.token.startsWith(API_TOKEN_PREFIX)
        ? credential.via === 'header'
          ? await tokens.authenticate(credential.token)
          : null
        : await accounts.authenticate(credential.token, credential.via);
      if (!principal) throw new AppError('UNAUTHENTICATED', 'The session or token is invalid or has expired; sign in again');
      return principal;
    },
    resolveScope: (principal, params) => resolveScope(scopeRepo, grantsLoader, principal, params),
    authorizer,
  });

  recordDeniedRequests(app, db);

  app.get('/healthz', { config: { access: 'public' }, schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    try {
      await ping(db);
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'database unreachable' });
    }
  });

  await app.register(
    async (api) => {
      const typed = api as unknown as App;
      // The document, plus the action catalogue every x-coffer-action and token scope comes from.
      const actions = ACTIONS.map((action) => ({ action, level: actionLevel(action), description: describeAction(action) }));
      typed.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => ({
        ...app.swagger(),
        'x-coffer-actions': actions,
      }));
      accountsRoutes(typed, accounts, config.sessionTtlSeconds);
      organizationRoutes(typed, createOrganizationsService({ db, hierarchyChanged: scopeRepo.hierarchyChanged }));
      memberRoutes(typed, members, limits.invitationAccept);
      roleRoutes(typed, roles);
      authzRoutes(typed, createAuthzCheck({ scopeRepo, grantsLoader, tokens }));
      tokenRoutes(typed, tokens);
      auditRoutes(typed, createAuditService({ db, signingKey: auditKeys.signingKey }));
      clusterRoutes(typed, createClustersService({ db }));
      projectRoutes(typed, createProjectsService({ db, hierarchyChanged: scopeRepo.hierarchyChanged }));
      environmentRoutes(typed, createEnvironmentsService({ db, hierarchyChanged: scopeRepo.hierarchyChanged }));
      serviceRoutes(typed, createServicesService({ db, outputs, changed, hierarchyChanged: scopeRepo.hierarchyChanged }));
      variableRoutes(typed, variables, resolver);
    },
    { prefix: API_PREFIX },
  );

  return app;
}
