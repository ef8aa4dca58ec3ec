import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, pathValue, type FuzzContext } from './fuzz/context.js';
import { operationsOf, type Operation, type Schema } from './fuzz/operations.js';
import { TestServer, type Response } from './harness.js';

/**
 * The checks every route owes its callers, walked over the route table (the OpenAPI document
 * the routes generate) once, so that a new route gets them without anyone writing them again:
 * 401 without credentials, 404 to a signed-in stranger on organization routes, 400 naming an
 * unknown body field, 400 naming a cursor the server did not issue, and never a 5xx.
 * Per-module files keep only what is particular to their routes.
 */
let server: TestServer;
let context: FuzzContext;
let operations: Operation[];
let publicOperations: Set<string>;

beforeAll(async () => {
  server = await TestServer.start();
  context = await createContext(server);
  const document = (await server.expect(200, 'GET', '/openapi.json')).body;
  operations = operationsOf(document);
  publicOperations = new Set();
  for (const [path, methods] of Object.entries<Record<string, { security?: unknown[] }>>(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (Array.isArray(operation.security) && operation.security.length === 0) publicOperations.add(`${method.toUpperCase()} ${path.replace(/^\/api\/v1/, '')}`);
    }
  }
});
afterAll(() => server.close());

const label = (op: Operation) => `${op.method} ${op.path}`;
const isPublic = (op: Operation) => publicOperations.has(label(op));
const hasBody = (op: Operation) => ['POST', 'PUT', 'PATCH'].includes(op.method);

/** The path with every parameter set to the context's real value (a nil-like UUID where there is none). */
function url(op: Operation, values: (name: string) => string | undefined = (name) => pathValue(context, name, op.path)): string {
  return op.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values(name) ?? '00000000-0000-4000-8000-000000000000'));
}

/** A body holding every required field (the value need not be valid: ajv reports unknown fields before bad values). */
function requiredFields(schema: Schema | undefined): Record<string, unknown> {
  const required = Array.isArray(schema?.required) ? (schema.required as string[]) : [];
  return Object.fromEntries(required.map((name) => [name, 'x']));
}

function hasProperty(schema: Schema | undefined, name: string): boolean {
  return typeof schema?.properties === 'object' && schema.properties !== null && name in schema.properties;
}

function expectNo5xx(response: Response, op: Operation) {
  expect(response.status, `${label(op)} answered ${response.status}: ${JSON.stringify(response.body)}`).toBeLessThan(500);
}

describe('route contract: authentication', () => {
  it('walks a route table in which no organization route is public', () => {
    expect(operations.length).toBeGreaterThan(30);
    expect(publicOperations).toContain('POST /auth/signup');
    for (const op of operations.filter((o) => o.path.startsWith('/orgs'))) expect(isPublic(op), label(op)).toBe(false);
  });

  it('walks the SSO routes: the sign-in ones public, sync (which changes memberships) not', () => {
    const labels = operations.map(label);
    for (const route of ['GET /auth/sso/discover', 'GET /auth/sso/{org}/start', 'GET /auth/sso/callback', 'POST /orgs/{org}/sso/sync']) expect(labels).toContain(route);
    for (const route of ['GET /auth/sso/discover', 'GET /auth/sso/{org}/start', 'GET /auth/sso/callback']) expect(publicOperations).toContain(route);
    expect(publicOperations).not.toContain('POST /orgs/{org}/sso/sync');
  });

  it('answers 401 UNAUTHENTICATED to every non-public route without credentials', async () => {
    for (const op of operations.filter((o) => !isPublic(o))) {
      const response = await server.request(op.method, url(op, () => undefined), { payload: hasBody(op) ? {} : undefined });
      expect(response.status, label(op)).toBe(401);
      expect(response.body.error.code, label(op)).toBe('UNAUTHENTICATED');
    }
  });

  it('answers 401 to every non-public route with a forged token, whatever the path', async () => {
    for (const op of operations.filter((o) => !isPublic(o))) {
      const response = await server.request(op.method, url(op), { token: 'cfs_forged-token-that-was-never-issued', payload: hasBody(op) ? {} : undefined });
      expect(response.status, label(op)).toBe(401);
    }
  });
});

describe('route contract: strangers', () => {
  it('answers 404 NOT_FOUND, never 403, to a signed-in stranger on every organization route, even with an invalid body, and changes nothing', async () => {
    // The owner of another organization: signed in, holding every action, only elsewhere.
    const { owner: stranger } = await server.tree('stranger');
    const snapshot = () =>
      Promise.all(
        ['', '/projects', '/projects/shop/environments', '/projects/shop/environments/production/services', '/clusters', '/members', '/invitations', '/roles', '/tokens'].map(
          async (path) => (await server.expect(200, 'GET', `/orgs/${context.org}${path}`, { token: context.owner.token })).body,
        ),
      );
    const before = await snapshot();
    for (const op of operations.filter((o) => o.path.startsWith('/orgs/{org}'))) {
      for (const payload of hasBody(op) ? [{}, { zz_unknown_field: 1 }] : [undefined]) {
        const response = await server.request(op.method, url(op), { token: stranger.token, payload });
        expect(response.status, label(op)).toBe(404);
        expect(response.body.error.code, label(op)).toBe('NOT_FOUND');
        expect(response.body.error.details, label(op)).toBeUndefined();
        expect(response.raw.body, label(op)).not.toContain(context.invitation.token);
        expect(response.raw.body, label(op)).not.toContain('backend.internal');
      }
    }
    await server.expect(404, 'GET', `/orgs/${context.org}/roles/ADMIN`, { token: stranger.token });
    expect(await snapshot()).toEqual(before);
  });

  it('gives a stranger the same answer for an existing organization resource as for a missing one, or a missing organization', async () => {
    const stranger = await server.user('stranger');
    for (const op of operations.filter((o) => o.method === 'GET' && o.path.startsWith('/orgs/{org}') && o.pathParams.length > 1)) {
      const existing = await server.request('GET', url(op), { token: stranger.token });
      const missing = await server.request('GET', url(op, (name) => (name === 'org' ? context.org : name.endsWith('id') ? undefined : 'imaginary')), { token: stranger.token });
      const noOrganization = await server.request('GET', url(op, (name) => (name === 'org' ? server.slug('ghost') : pathValue(context, name, op.path))), { token: stranger.token });
      for (const response of [existing, missing, noOrganization]) {
        expect(response.status, label(op)).toBe(404);
        expect(response.body.error.message, label(op)).toBe(existing.body.error.message);
      }
    }
  });
});

describe('route contract: validation', () => {
  it('refuses an unknown body field with 400 VALIDATION_FAILED naming it, on every route with a body, before acting', async () => {
    const withBody = operations.filter((o) => o.body && o.body.type === 'object' && o.body.additionalProperties === false);
    expect(withBody.length).toBeGreaterThan(15);
    for (const op of withBody) {
      const response = await server.request(op.method, url(op), { token: context.owner.token, payload: { ...requiredFields(op.body), zz_unknown_field: 1 } });
      expectNo5xx(response, op);
      expect(response.status, `${label(op)}: ${JSON.stringify(response.body)}`).toBe(400);
      expect(response.body.error, label(op)).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.zz_unknown_field', reason: 'is not a known field' } });
    }
  });

  it('refuses a cursor it did not issue with 400 naming query.cursor, on every paged route', async () => {
    const paged = operations.filter((o) => o.queryParams.some((p) => p.name === 'cursor'));
    expect(paged.length).toBeGreaterThan(5);
    for (const op of paged) {
      // Garbage, base64url of an object that is no cursor, a NUL, an oversized one.
      for (const cursor of ['not-a-cursor', '!!!', Buffer.from(JSON.stringify({ after: 'x' })).toString('base64url'), '\u0000', 'a'.repeat(600)]) {
        const response = await server.request(op.method, `${url(op)}?cursor=${encodeURIComponent(cursor)}`, { token: context.owner.token });
        expectNo5xx(response, op);
        expect(response.status, `${label(op)} cursor=${cursor.slice(0, 20)}`).toBe(400);
        expect(response.body.error, label(op)).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'query.cursor' } });
      }
    }
  });

  it('refuses a PATCH with an empty body with 400 VALIDATION_FAILED, on every resource that is renamed by PATCH', async () => {
    const renamed = operations.filter((o) => o.method === 'PATCH' && hasProperty(o.body, 'name'));
    expect(renamed.map(label)).toEqual(expect.arrayContaining(['PATCH /orgs/{org}/projects/{project}', 'PATCH /orgs/{org}/clusters/{cluster_id}']));
    for (const op of renamed) {
      const response = await server.request('PATCH', url(op), { token: context.owner.token, payload: {} });
      expect(response.status, label(op)).toBe(400);
      expect(response.body.error.code, label(op)).toBe('VALIDATION_FAILED');
    }
  });

  it('answers 404 NOT_FOUND with a JSON error body and its request id to GET, PATCH and DELETE of an unknown project, environment, service or cluster', async () => {
    // The routes whose last path parameter names the resource itself, and that PATCH renames.
    const items = operations.filter((o) => /\/\{(project|env|service|cluster_id)\}$/.test(o.path) && ['GET', 'PATCH', 'DELETE'].includes(o.method));
    expect(items.length).toBe(12);
    for (const op of items) {
      const last = op.pathParams.at(-1)!.name;
      const payload = op.method === 'PATCH' ? { name: 'x' } : undefined;
      const response = await server.request(op.method, url(op, (name) => (name === last ? (name === 'cluster_id' ? randomUUID() : 'nope') : pathValue(context, name, op.path))), { token: context.owner.token, payload });
      expect(response.status, label(op)).toBe(404);
      expect(response.headers['content-type'], label(op)).toMatch(/application\/json/);
      expect(response.body.error, label(op)).toMatchObject({ code: 'NOT_FOUND', request_id: expect.any(String) });
    }
  });

  it('answers no route with a 5xx when its path parameters are malformed', async () => {
    // The organization stays real: with only the organization in its path, a route would act for real.
    for (const op of operations.filter((o) => o.pathParams.some((p) => p.name !== 'org') && !isPublic(o))) {
      const response = await server.request(op.method, url(op, (name) => (name === 'org' ? context.org : 'not a uuid or slug')), {
        token: context.owner.token,
        payload: hasBody(op) ? {} : undefined,
      });
      expectNo5xx(response, op);
      expect([400, 404], label(op)).toContain(response.status);
    }
  });
});
