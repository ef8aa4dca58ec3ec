import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { buildApp, type AppOptions } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { createPGlite, openPostgres, usePGlite, type DatabaseHandle } from '../src/kernel/db/connect.js';
import type { App } from '../src/kernel/http/app-types.js';
import type { Authorizer } from '../src/kernel/authz/authorizer.js';
// Re-exported so that kernel tests wrap the real authorizer without importing a module.
export { engineAuthorizer } from '../src/modules/authz/evaluator.js';
import { createLocalInvalidation, createPostgresInvalidation, type Invalidation } from '../src/kernel/cache/invalidation.js';
import { adminStatement, databaseUrl } from './postgres.js';
import { createKeyring } from '../src/kernel/crypto/keyring.js';
import { LocalKeyProvider } from '../src/kernel/crypto/key-provider.js';
import { createServiceOutputs } from '../src/modules/services/outputs.js';
import { openAudit } from '../src/modules/audit/index.js';

export interface TestDatabase extends DatabaseHandle {
  /** The connection string, on PostgreSQL (a second instance may share the database). */
  url?: string;
}

/** A fresh database for one test file: a loaded PGlite dump, or a clone of the PostgreSQL template. */
export async function openTestDatabase(): Promise<TestDatabase> {
  if (process.env.COFFER_TEST_BACKEND === 'postgres') {
    const name = `${inject('postgresTemplate').replace(/_tpl$/, '')}_${randomBytes(4).toString('hex')}`;
    await adminStatement(`create database "${name}" template "${inject('postgresTemplate')}"`);
    const handle = openPostgres(databaseUrl(name), { max: 4 });
    return {
      ...handle,
      url: databaseUrl(name),
      async close() {
        await handle.close();
        await adminStatement(`drop database if exists "${name}" with (force)`);
      },
    };
  }
  const dump = new Blob([fs.readFileSync(inject('pgliteTemplate'))]);
  return usePGlite(await createPGlite({ loadDataDir: dump }));
}

export interface Response {
  status: number;
  headers: LightMyRequestResponse['headers'];
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read whatever the API sent
  raw: LightMyRequestResponse;
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
  cookies?: Record<string, string>;
  /** A raw payload (string) is sent as is; anything else as JSON. */
  payload?: unknown;
}

/**
 * A test file signs up and signs in hundreds of users from one address (127.0.0.1), so the
 * harness configures generous attempt limits; tests of the limits pass their own `rateLimits`.
 */
const TEST_ENV: Record<string, string> = Object.fromEntries(
  ['SIGNUP', 'LOGIN', 'INVITATION_ACCEPT'].flatMap((name) => [
    [`COFFER_${name}_LIMIT_PER_IP`, '1000000'],
    [`COFFER_${name}_LIMIT_PER_EMAIL`, '1000000'],
  ]),
);

/** Collaborators a test may replace: only those that reach outside the process (DNS). */
export type TestDeps = Pick<AppOptions, 'resolveTxt'>;

/** The real application over a real database, driven through Fastify's full request path. */
export class TestServer {
  private counter = 0;

  private constructor(
    readonly app: App,
    readonly database: TestDatabase,
    private readonly invalidation: Invalidation,
    private readonly ownsDatabase: boolean,
    readonly rootKey: Buffer,
  ) {}

  static async start(overrides: Partial<Config> = {}, logger?: FastifyBaseLogger, authorizer?: Authorizer, deps: TestDeps = {}): Promise<TestServer> {
    return TestServer.startOn(await openTestDatabase(), true, randomBytes(32), overrides, logger, authorizer, deps);
  }

  /** A second instance on this one's database (PostgreSQL only): what a load balancer would have. */
  async sibling(overrides: Partial<Config> = {}): Promise<TestServer> {
    if (!this.database.url) throw new Error('siblings need PostgreSQL');
    return TestServer.startOn({ ...openPostgres(this.database.url, { max: 4 }), url: this.database.url }, false, this.rootKey, overrides);
  }

  private static async startOn(
    database: TestDatabase,
    ownsDatabase: boolean,
    rootKey: Buffer,
    overrides: Partial<Config> = {},
    logger?: FastifyBaseLogger,
    authorizer?: Authorizer,
    deps: TestDeps = {},
  ): Promise<TestServer> {
    const config = { ...loadConfig(TEST_ENV), logLevel: 'silent' as const, ...overrides };
    const invalidation = database.url ? await createPostgresInvalidation(database.url) : createLocalInvalidation();
    const audit = await openAudit(database.db, rootKey, new LocalKeyProvider(rootKey));
    const app = await buildApp({ config, db: database.db, logger, authorizer, invalidation, rootKey, audit, ...deps });
    return new TestServer(app, database, invalidation, ownsDatabase, rootKey);
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.invalidation.close();
    if (this.ownsDatabase) await this.database.close();
    else await this.database.db.destroy();
  }

  get db() {
    return this.database.db;
  }

  /** Service outputs as the server seals and opens them, for tests that read rows directly. */
  get serviceOutputs() {
    return createServiceOutputs(createKeyring({ db: this.db, provider: new LocalKeyProvider(this.rootKey) }));
  }

  async request(method: string, url: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | undefined;
    if (options.payload !== undefined) {
      payload = typeof options.payload === 'string' ? options.payload : JSON.stringify(options.payload);
      headers['content-type'] ??= 'application/json';
    }
    const raw = await this.app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers, payload, cookies: options.cookies });
    let body: unknown = raw.body;
    if (/^application\/json/.test(String(raw.headers['content-type'] ?? '')) && raw.body !== '') body = JSON.parse(raw.body);
    return { status: raw.statusCode, headers: raw.headers, body, raw };
  }

  /** A unique email, so tests never depend on each other's accounts. */
  email(label = 'user'): string {
    return `${label}-${++this.counter}-${randomBytes(3).toString('hex')}@example.test`;
  }

  slug(label = 's'): string {
    return `${label}-${++this.counter}-${randomBytes(3).toString('hex')}`;
  }

  /** Signs up and signs in a new user; returns their session token. */
  async user(label = 'user'): Promise<{ token: string; id: string; email: string; csrf: string }> {
    const email = this.email(label);
    const password = 'correct horse battery staple';
    const signup = await this.request('POST', '/auth/signup', { payload: { email, password, name: label } });
    if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${JSON.stringify(signup.body)}`);
    const login = await this.request('POST', '/auth/login', { payload: { email, password } });
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
    return { token: login.body.token, id: login.body.user.id, email, csrf: login.body.csrf_token };
  }

  /** A new user owning a new, empty organization (`payload` adds to the slug, e.g. a name). */
  async org(label = 'owner', payload: Record<string, unknown> = {}) {
    const owner = await this.user(label);
    const org = this.slug('org');
    await this.expect(201, 'POST', '/orgs', { token: owner.token, payload: { slug: org, ...payload } });
    return { owner, org };
  }

  /** An existing user joins `org` with `role`: invited by the owner, then accepting. */
  async join(ownerToken: string, org: string, user: { token: string; email: string }, role: string): Promise<void> {
    const invitation = await this.expect(201, 'POST', `/orgs/${org}/invitations`, { token: ownerToken, payload: { email: user.email, role } });
    await this.expect(200, 'POST', `/invitations/${invitation.body.token}/accept`, { token: user.token });
  }

  /** A new user who joins `org` with `role`: invited by the owner, then accepting. */
  async member(ownerToken: string, org: string, role: string) {
    const user = await this.user(role.toLowerCase());
    await this.join(ownerToken, org, user, role);
    return user;
  }

  /** A new member of `org` holding the custom role `roleId`: joined as VIEWER, then given the role. */
  async holder(ownerToken: string, org: string, roleId: string) {
    const user = await this.member(ownerToken, org, 'VIEWER');
    await this.expect(200, 'PATCH', `/orgs/${org}/members/${user.id}`, { token: ownerToken, payload: { role_id: roleId } });
    return user;
  }

  /** An API token the owner creates in `org` (a unique name unless `body` gives one); the secret is in `token`. */
  async mint(ownerToken: string, org: string, body: Record<string, unknown>): Promise<{ id: string; token: string; name: string }> {
    const created = await this.expect(201, 'POST', `/orgs/${org}/tokens`, { token: ownerToken, payload: { name: this.slug('t'), ...body } });
    return created.body;
  }

  /** A new user owning a new organization with one project, environment and service. */
  async tree(label = 'owner') {
    const owner = await this.user(label);
    const org = this.slug('org');
    await this.expect(201, 'POST', '/orgs', { token: owner.token, payload: { slug: org } });
    await this.expect(201, 'POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'shop' } });
    await this.expect(201, 'POST', `/orgs/${org}/projects/shop/environments`, {
      token: owner.token,
      payload: { slug: 'production', type: 'PRODUCTION' },
    });
    await this.expect(201, 'POST', `/orgs/${org}/projects/shop/environments/production/services`, {
      token: owner.token,
      payload: { slug: 'backend', kind: 'application', outputs: { url: 'https://backend.internal' } },
    });
    return { owner, org };
  }

  /** DELETE answers 204 with an empty body, after which GET answers 404 with the JSON error body. */
  async expectDeleted(url: string, token: string): Promise<void> {
    const deleted = await this.expect(204, 'DELETE', url, { token });
    expect(deleted.raw.body).toBe('');
    const got = await this.expect(404, 'GET', url, { token });
    expect(got.body.error).toMatchObject({ code: 'NOT_FOUND', message: expect.any(String), request_id: expect.any(String) });
  }

  /**
   * Every page of a paged listing, `limit` items a page, following next_cursor (`url` may carry
   * other query parameters); fails past `most` pages rather than looping on a cursor that repeats.
   */
  async pages(url: string, token: string, limit: number, most = 20): Promise<Response['body'][][]> {
    const pages: Response['body'][][] = [];
    let cursor: string | null = null;
    do {
      if (pages.length === most) throw new Error(`${url}: more than ${most} pages`);
      const query = `${url.includes('?') ? '&' : '?'}limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
      const page: Response = await this.expect(200, 'GET', `${url}${query}`, { token });
      pages.push(page.body.items);
      cursor = page.body.next_cursor;
    } while (cursor !== null);
    return pages;
  }

  /** Sends the request and fails with the response body unless the status is `status`. */
  async expect(status: number, method: string, url: string, options: RequestOptions = {}): Promise<Response> {
    const response = await this.request(method, url, options);
    if (response.status !== status) {
      throw new Error(`${method} ${url}: expected ${status}, got ${response.status} ${JSON.stringify(response.body)}`);
    }
    return response;
  }
}

/** Asserts the error contract: the status, the code and, when given, what the details hold (e.g. `{ field: 'body.slug' }`). */
export function expectError(response: Response, status: number, code: string, details?: Record<string, unknown>) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.error.code).toBe(code);
  if (details) expect(response.body.error.details).toMatchObject(details);
}

/** A 400 VALIDATION_FAILED whose details name `field`. */
export function expectInvalidField(response: Response, field: string) {
  expectError(response, 400, 'VALIDATION_FAILED', { field });
}

/**
 * The file's server: started before its tests, closed after them. The object returned stands
 * for it (every property reads through to the running server), so a file needs no setup block.
 */
export function useTestServer(overrides: Partial<Config> = {}, deps: TestDeps = {}): TestServer {
  let started: TestServer | undefined;
  beforeAll(async () => {
    started = await TestServer.start(overrides, undefined, undefined, deps);
  });
  afterAll(() => started?.close());
  return standIn(() => started);
}

/**
 * For cache tests: the file's server, where writes go, and `reader`, where the cache under test
 * is read — a second instance on the same PostgreSQL database (so an invalidation must cross
 * instances), the same instance on PGlite. Started before the file's tests, closed after them.
 */
export function useServerAndReader(): { server: TestServer; reader: TestServer } {
  let server: TestServer | undefined;
  let reader: TestServer | undefined;
  beforeAll(async () => {
    server = await TestServer.start();
    reader = process.env.COFFER_TEST_BACKEND === 'postgres' ? await server.sibling() : server;
  });
  afterAll(async () => {
    if (reader !== server) await reader?.close();
    await server?.close();
  });
  return { server: standIn(() => server), reader: standIn(() => reader) };
}

/** An object that reads through to the server started in beforeAll, so a file needs no setup block. */
function standIn(started: () => TestServer | undefined): TestServer {
  return new Proxy({} as TestServer, {
    get(_, property) {
      const server = started();
      if (!server) throw new Error('the test server starts in beforeAll: use it inside hooks and tests');
      const value: unknown = Reflect.get(server, property, server);
      return typeof value === 'function' ? value.bind(server) : value;
    },
  });
}

/**
 * One JSON request to a server listening for real (runServer), failing with the status and
 * body unless it succeeded; `{}` for an empty answer.
 */
export async function callListening(address: string, method: string, url: string, body?: unknown, token?: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${address}/api/v1${url}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text}`);
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}
