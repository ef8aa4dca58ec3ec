import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineAuthorizer, TestServer } from '../../../test/harness.js';
import { loggerOptions } from './logging.js';
import type { Authorizer } from '../authz/authorizer.js';
import type { Action } from '../authz/catalogue.js';

let server: TestServer;
beforeAll(async () => {
  server = await TestServer.start();
  // Registered before the first request: an unexpected failure inside a handler.
  server.app.get('/api/v1/test-failure', { config: { access: 'public' } }, async () => {
    throw new Error('connection to 10.0.0.7 refused: internal detail');
  });
});
afterAll(() => server.close());

interface Operation {
  method: string;
  path: string;
  action?: Action;
  public: boolean;
}

async function operations(): Promise<Operation[]> {
  const document = (await server.expect(200, 'GET', '/openapi.json')).body;
  const result: Operation[] = [];
  for (const [path, methods] of Object.entries<Record<string, { security?: unknown[]; 'x-coffer-action'?: Action }>>(
    document.paths,
  )) {
    for (const [method, operation] of Object.entries(methods)) {
      result.push({
        method: method.toUpperCase(),
        path: path.replace(/^\/api\/v1/, ''),
        action: operation['x-coffer-action'],
        public: Array.isArray(operation.security) && operation.security.length === 0,
      });
    }
  }
  return result;
}

function fill(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? '00000000-0000-4000-8000-000000000000');
}

describe('error contract', () => {
  it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
    const { token } = await server.user();
    const response = await server.request('POST', '/orgs', { token, payload: '{"slug": ' });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'MALFORMED_JSON', request_id: expect.any(String) });
  });

  it('answers an unknown route with a JSON 404', async () => {
    const response = await server.request('GET', '/no-such-route');
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toMatch(/application\/json/);
    expect(response.body.error.code).toBe('NOT_FOUND');
  });

  it('answers an oversized body with 413', async () => {
    const { token } = await server.user();
    const response = await server.request('POST', '/orgs', { token, payload: { slug: 'x', name: 'y'.repeat(4 * 1024 * 1024) } });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers a body that is not JSON with 415', async () => {
    const { token } = await server.user();
    const response = await server.request('POST', '/orgs', { token, payload: 'slug=x', headers: { 'content-type': 'text/plain' } });
    expect(response.status).toBe(415);
  });

  it('answers an unexpected failure with 500, the request id and nothing about the internals', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/api/v1/test-failure' });
    expect(response.statusCode).toBe(500);
    const body = JSON.parse(response.body);
    expect(body.error).toEqual({ code: 'INTERNAL', message: expect.any(String), request_id: response.headers['x-request-id'] });
    expect(response.body).not.toContain('10.0.0.7');
  });

  it('echoes a caller-supplied X-Request-Id', async () => {
    const response = await server.request('GET', '/no-such-route', { headers: { 'x-request-id': 'trace-123' } });
    expect(response.headers['x-request-id']).toBe('trace-123');
    expect(response.body.error.request_id).toBe('trace-123');
  });

  it('replaces an X-Request-Id that is too long or not id-like with its own', async () => {
    for (const offered of ['x'.repeat(129), 'trace 123', 'trace<script>', 'trace\u00e9']) {
      const response = await server.request('GET', '/no-such-route', { headers: { 'x-request-id': offered } });
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(response.body.error.request_id).toBe(response.headers['x-request-id']);
    }
  });

  it('refuses an unknown query parameter with a 400 naming it, on routes with and without query parameters', async () => {
    const { token } = await server.user();
    const none = await server.request('GET', '/me?foo=1', { token });
    expect(none.status).toBe(400);
    expect(none.body.error.details).toEqual({ field: 'query.foo', reason: 'is not a known field' });
    const some = await server.request('GET', '/orgs?limit=5&colour=red', { token });
    expect(some.status).toBe(400);
    expect(some.body.error.details.field).toBe('query.colour');
    await server.expect(200, 'GET', '/orgs?limit=5', { token });
    const login = await server.request('POST', '/auth/login?password=x', { payload: { email: server.email(), password: 'y' } });
    expect(login.status).toBe(400);
    expect((await server.app.inject({ url: '/healthz?probe=1' })).statusCode).toBe(400);
  });

  it('names an unknown body field in a 400', async () => {
    const { token } = await server.user();
    const response = await server.request('POST', '/orgs', { token, payload: { slug: server.slug(), colour: 'red' } });
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual({ field: 'body.colour', reason: 'is not a known field' });
  });
});

describe('health and OpenAPI', () => {
  it('serves /healthz and /readyz', async () => {
    expect((await server.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const ready = await server.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready' });
  });

  it('serves an OpenAPI 3 document in which every non-public operation names its action or is user-level', async () => {
    const document = (await server.expect(200, 'GET', '/openapi.json')).body;
    expect(document.openapi).toMatch(/^3\./);
    const ops = await operations();
    expect(ops.length).toBeGreaterThan(30);
    const orgScoped = ops.filter((op) => op.path.startsWith('/orgs/{org}'));
    expect(orgScoped.every((op) => op.action !== undefined)).toBe(true);
    const catalogue = document['x-coffer-actions'] as { action: string; level: string; description: string }[];
    expect(catalogue).toContainEqual({ action: 'secret:decrypt', level: 'environment', description: expect.any(String) });
    expect(ops.every((op) => op.action === undefined || catalogue.some((entry) => entry.action === op.action))).toBe(true);
  });

  it('refuses to register a route that declares no access', async () => {
    const fresh = await TestServer.start();
    try {
      expect(() => fresh.app.get('/api/v1/undeclared', async () => 'x')).toThrow(/declares no access/);
    } finally {
      await fresh.close();
    }
  });
});

describe('every route is guarded', () => {

  it('refuses every organization route when the principal lacks exactly the action it declares', async () => {
    // A member who holds every action but one: each route must be refused for its own action.
    let denied: Action | undefined;
    const denyOne: Authorizer = {
      can: (subject, action, resource) => action !== denied && engineAuthorizer.can(subject, action, resource),
    };
    const guarded = await TestServer.start({}, undefined, denyOne);
    try {
      const { owner, org } = await guarded.tree();
      const cluster = await guarded.expect(201, 'POST', `/orgs/${org}/clusters`, { token: owner.token, payload: { name: 'c1' } });
      const values = { org, project: 'shop', env: 'production', service: 'backend', cluster_id: cluster.body.id };
      for (const op of (await operations()).filter((o) => o.action !== undefined)) {
        denied = op.action;
        const response = await guarded.request(op.method, fill(op.path, values), {
          token: owner.token,
          payload: ['POST', 'PUT', 'PATCH'].includes(op.method) ? {} : undefined,
        });
        expect([403, 404], `${op.method} ${op.path} without ${denied}`).toContain(response.status);
        if (response.status === 403) expect(response.body.error.details.action).toBe(denied);
      }
    } finally {
      await guarded.close();
    }
  });
});

describe('logging', () => {
  it('keeps passwords, tokens, cookies, invitation tokens and query values out of the log', async () => {
    let output = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        output += String(chunk);
        done();
      },
    });
    const logged = await TestServer.start({}, pino(loggerOptions('trace'), sink));
    try {
      const { owner, org } = await logged.tree();
      const invited = await logged.user('invitee');
      const invitation = await logged.expect(201, 'POST', `/orgs/${org}/invitations`, {
        token: owner.token,
        payload: { email: invited.email, role: 'VIEWER' },
      });
      await logged.expect(200, 'POST', `/invitations/${invitation.body.token}/accept`, { token: invited.token });
      await logged.expect(200, 'GET', '/me', { cookies: { coffer_session: owner.token } });
      // Query values never reach the log, whether the route knows the parameter or refuses it.
      await logged.expect(400, 'GET', '/me?token=s3cr3t-token-for-tests&value=s3cr3t-value-for-tests', { token: owner.token });
      await logged.expect(200, 'GET', `/orgs/${org}/projects/shop/environments/production/resolve?format=dotenv`, { token: owner.token });
      expect(output).toContain('/me?token=[redacted]&value=[redacted]');
      expect(output).toContain('/resolve?format=[redacted]');
      expect(output).not.toContain('s3cr3t-');
      expect(output).not.toContain('format=dotenv');
      expect(output).toContain('/invitations/[redacted]/accept');
      expect(output).not.toContain('correct horse battery staple');
      expect(output).not.toContain(owner.token);
      expect(output).not.toContain(invitation.body.token);
    } finally {
      await logged.close();
    }
  });
});
