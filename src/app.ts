import { randomUUID } from 'node:crypto';
import { AjvCompiler } from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
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
import { lazyChildLogger } from './kernel/http/logging.js';
import { refuseUnknownQueryParameters } from './kernel/http/query.js';
import { registerOpenApi } from './kernel/http/openapi.js';
import { installSecurityHeaders, registerConsole } from './kernel/http/console.js';
import { register as registerAccounts, sessionCredential } from './modules/accounts/index.js';
import type { AccountsService } from './modules/accounts/service.js';
import { createAttemptLimits } from './modules/accounts/rate-limit.js';
import type { Authorizer } from './kernel/authz/authorizer.js';
import { engineAuthorizer } from './modules/authz/evaluator.js';
import { ACTIONS, actionLevel, describeAction } from './kernel/authz/catalogue.js';
import { createScopes, register as registerAuthz, type Scopes } from './modules/authz/index.js';
import { membershipPublisher } from './modules/authz/membership-cache.js';
import { register as registerAudit, type OpenedAudit } from './modules/audit/index.js';
import { register as registerCascade } from './modules/cascade/index.js';
import { register as registerClusters } from './modules/clusters/index.js';
import { register as registerEnvironments } from './modules/environments/index.js';
import { register as registerMembers } from './modules/members/index.js';
import { register as registerOrganizations } from './modules/organizations/index.js';
import { register as registerProjects } from './modules/projects/index.js';
import { register as registerProjectKeys } from './modules/project-keys/index.js';
import { register as registerRoles } from './modules/roles/index.js';
import { register as registerServices } from './modules/services/index.js';
import { createServiceOutputs } from './modules/services/outputs.js';
import { register as registerTokens } from './modules/tokens/index.js';
import type { TokensService } from './modules/tokens/service.js';
import { register as registerVariables } from './modules/variables/index.js';
import { register as registerSso, type TxtResolver } from './modules/sso/index.js';
import { register as registerWebhooks } from './modules/webhooks/index.js';
import { register as registerChanges } from './modules/changes/index.js';
import { register as registerVault, vaultCredential } from './modules/vault/index.js';
import type { Resolver } from './modules/variables/resolver.js';
import type { ProjectListing } from './modules/projects/list-cache.js';
import { API_TOKEN_PREFIX } from './kernel/crypto/api-token.js';
import { AppError } from './kernel/errors.js';
import { andThen } from './kernel/maybe.js';
import { createLocalInvalidation, type Invalidation } from './kernel/cache/invalidation.js';
import { LocalKeyProvider, type KeyProvider } from './kernel/crypto/key-provider.js';
import { createKeyring } from './kernel/crypto/keyring.js';

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
  /**
   * The audit keys and service (openAudit), built once by the caller: the server's housekeeping
   * shares them. Or their promise, when the app is built while the database opens (server.ts):
   * the app is not ready (listen, inject) until it settles.
   */
  audit: OpenedAudit | Promise<OpenedAudit>;
  /** Where the built web console is; defaults to dist/web beside the compiled server. */
  consoleDir?: string;
  /** DNS TXT lookups (SSO domain verification); defaults to node:dns. Tests pass a fake. */
  resolveTxt?: TxtResolver;
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
  return (route: { httpPart?: string; schema?: unknown }) => {
    const validate = lazily(() => (route.httpPart === 'body' ? strict(route as never) : coercing(route as never)) as Validator);
    return declaresNoFields(route.schema) ? passingEmpty(validate) : validate;
  };
};

type Validator = ((data: unknown) => unknown) & { errors?: unknown };

const serializerCompilers = SerializerSelector();

/** Response serialisers, like validators, built on first use (see lazily). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as strictBodies
const lazySerializers = (externalSchemas: any, options: any) => {
  const build = serializerCompilers(externalSchemas, options);
  return (route: Parameters<typeof build>[0]) => {
    let serialize: ((data: unknown) => string) | undefined;
    return (data: unknown) => (serialize ??= build(route) as (data: unknown) => string)(data);
  };
};

/**
 * A validator compiled on its first use rather than at start: compiling every route's
 * schemas was a fifth of the time to /readyz, and most routes are not called soon after.
 */
function lazily(compile: () => Validator): Validator {
  let compiled: Validator | undefined;
  const validate: Validator = (data) => {
    compiled ??= compile();
    const result = compiled(data);
    validate.errors = compiled.errors;
    return result;
  };
  return validate;
}

/** `{ type: 'object', properties: {}, additionalProperties: false }`: what query.ts gives a route that takes no query. */
function declaresNoFields(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false;
  const { type, properties, additionalProperties, ...rest } = schema as Record<string, unknown>;
  const noProperties = properties === undefined || (typeof properties === 'object' && properties !== null && Object.keys(properties).length === 0);
  return type === 'object' && additionalProperties === false && noProperties && Object.keys(rest).length === 0;
}

/**
 * An empty object passes such a schema: that is ajv's answer too, given without compiling.
 * The first compilation in an ajv instance compiles the JSON Schema meta-schema as well, a
 * third of a second, which the first /readyz (no query) then paid before answering.
 */
function passingEmpty(validate: Validator): Validator {
  const check: Validator = (data) => {
    if (typeof data === 'object' && data !== null && Object.keys(data).length === 0) return true;
    const result = validate(data);
    check.errors = validate.errors;
    return result;
  };
  return check;
}

/**
 * The opened audit log for the routes: at once when given, else once its promise settles,
 * which the app waits for before it is ready (Fastify's onReady), so no request comes sooner.
 */
function auditWhenReady(app: { addHook(name: 'onReady', hook: () => Promise<void>): unknown }, given: OpenedAudit | Promise<OpenedAudit>): () => OpenedAudit {
  if (!(given instanceof Promise)) return () => given;
  let opened: OpenedAudit | undefined;
  given.catch(() => {}); // awaited by onReady, and by the caller, which reports it
  app.addHook('onReady', async () => {
    opened = await given;
  });
  return () => opened!;
}

/** Builds the whole HTTP application over an open database: the composition root. */
export async function buildApp(options: AppOptions): Promise<App> {
  const { config, db } = options;
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger, childLoggerFactory: lazyChildLogger } : { logger: false }),
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
    schemaController: { compilersFactory: { buildValidator: strictBodies as never, buildSerializer: lazySerializers as never } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Hooks on every request take `done` rather than returning a promise: one less promise and tick each.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  installSecurityHeaders(app);
  // Before any route is registered: the hook completes each route's querystring schema.
  refuseUnknownQueryParameters(app);

  // JSON only: a text/plain body is a 415, not a string that fails validation obscurely.
  app.removeContentTypeParser('text/plain');
  await app.register(cookie);
  await registerOpenApi(app, VERSION);
  installErrorHandler(app);
  installTextInputCheck(app);

  const invalidation = options.invalidation ?? createLocalInvalidation();
  const keyProvider = options.keyProvider ?? new LocalKeyProvider(options.rootKey);
  const keyring = createKeyring({ db, provider: keyProvider });
  const audit = auditWhenReady(app, options.audit);
  const limits = createAttemptLimits(db, config.rateLimits);
  const outputs = createServiceOutputs(keyring);
  const membershipChanged = membershipPublisher(invalidation);

  // The guard goes on before any route, since it refuses a route that declares no access, yet
  // it calls what the modules build as they register below: it reaches them through `modules`,
  // complete before the app can take a request.
  const modules = {} as {
    accounts: Pick<AccountsService, 'authenticate'>;
    tokens: Pick<TokensService, 'authenticate'>;
    scopes: Scopes;
    sso: ReturnType<typeof registerSso>;
  };
  installGuard(app, {
    authenticate(request) {
      const credential = sessionCredential(request) ?? vaultCredential(request);
      if (!credential) return null;
      // One authentication step for people and programs: API tokens by their prefix.
      const principal = credential.token.startsWith(API_TOKEN_PREFIX)
        ? credential.via === 'header'
          ? modules.tokens.authenticate(credential.token)
          : null
        : modules.accounts.authenticate(credential.token, credential.via);
      return andThen(principal, (found) => {
        if (!found) throw new AppError('UNAUTHENTICATED', 'The session or token is invalid or has expired; sign in again');
        return found;
      });
    },
    resolveScope(principal, params) {
      return andThen(modules.scopes.resolveScope(principal, params), (scope) =>
        // An organization that enforces single sign-on refuses its members' password sessions.
        andThen(modules.sso.enforce(principal, scope), () => scope),
      );
    },
    authorizer: options.authorizer ?? engineAuthorizer,
  });

  app.get('/healthz', { config: { access: 'public' }, schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    try {
      await ping(db);
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'database unreachable' });
    }
  });

  let resolver: Resolver | undefined;
  let projectListing: ProjectListing | undefined;
  await app.register(
    async (api) => {
      const typed = api as unknown as App;
      // The document, plus the action catalogue every x-coffer-action and token scope comes from.
      const actions = ACTIONS.map((action) => ({ action, level: actionLevel(action), description: describeAction(action) }));
      typed.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => ({
        ...app.swagger(),
        'x-coffer-actions': actions,
      }));
      // Each module builds its services and registers its routes; the order is their dependencies'.
      const members = registerMembers(typed, { db, acceptLimit: limits.invitationAccept, membershipChanged });
      const accounts = (modules.accounts = registerAccounts(typed, { db, config, invalidation, limits, hasPendingInvitation: members.hasPendingInvitation }));
      const roles = registerRoles(typed, { db, membershipChanged });
      const scopes = (modules.scopes = createScopes({ db, invalidation, roleDefinition: roles.definition }));
      const { hierarchyChanged } = scopes;
      registerOrganizations(typed, { db, hierarchyChanged, membershipChanged });
      const tokens = (modules.tokens = registerTokens(typed, { db, scopeRepo: scopes.scopeRepo, invalidation }));
      registerAuthz(typed, { scopes, tokens });
      registerAudit(typed, { db, audit: () => audit().service });
      registerClusters(typed, { db });
      registerCascade(typed, { db });
      projectListing = registerProjects(typed, { db, hierarchyChanged, invalidation }).listing;
      registerEnvironments(typed, { db, hierarchyChanged });
      const variables = registerVariables(typed, { db, keyring, valueHmac: (organizationId, value) => audit().keys.valueHmac(organizationId, value), outputs, invalidation });
      registerServices(typed, { db, outputs, changed: variables.changed, hierarchyChanged });
      registerWebhooks(typed, { db, keyring, allowPrivate: config.webhooks.allowPrivate });
      registerChanges(typed, { db, pollMs: config.changePollMs });
      registerProjectKeys(typed, { db, keyring, changed: variables.changed, hierarchyChanged });
      modules.sso = registerSso(typed, {
        db,
        keyring,
        openSession: accounts.openSession,
        apiPrefix: API_PREFIX,
        sessionTtlSeconds: config.sessionTtlSeconds,
        resolveTxt: options.resolveTxt,
        dnsServers: config.dnsServers,
      });
      resolver = variables.resolver;
    },
    { prefix: API_PREFIX },
  );
  // The console at `/`, calling the routes above like any other client.
  await registerConsole(app, options.consoleDir);

  // Vault's KV v2 read API at Vault's own paths, in its own context: its errors are Vault-shaped.
  await app.register(async (vault) => registerVault(vault as unknown as App, { db, resolver: resolver!, projectListing: projectListing!, outputs, scopes: modules.scopes, invalidation }), { prefix: '/v1' });

  return app;
}
