import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer } from '../../../test/harness.js';

/** Issue #18 item 13: bad input is a 400 naming the field, checked before any database work. */
let server: TestServer;
let owner: { token: string; id: string };
let org: string;
const warnings: Record<string, unknown>[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) warnings.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  server = await TestServer.start({}, pino({ level: 'warn' }, sink));
  // Registered before the first request: a value that slipped past validation to the database.
  server.app.get('/api/v1/test-data-exception', { config: { access: 'public' } }, async () => {
    throw Object.assign(new Error('invalid input syntax for type uuid: "s3cr3t-value-for-tests"'), { code: '22P02' });
  });
  ({ owner, org } = await server.tree());
});
afterAll(() => server.close());

const base = () => `/orgs/${org}/projects/shop/environments/production/services/backend`;

function expectField(response: { status: number; body: { error: { code: string; details?: { field?: string; reason?: string } } } }, field: string, reason?: RegExp) {
  expect(response.status).toBe(400);
  expect(response.body.error.code).toBe('VALIDATION_FAILED');
  expect(response.body.error.details?.field).toBe(field);
  if (reason) expect(response.body.error.details?.reason).toMatch(reason);
}

describe('NUL bytes and lone surrogates', () => {
  it('refuses a NUL in a path slug with 400 naming the parameter, before looking it up', async () => {
    expectField(await server.request('GET', `/orgs/${org}%00`, { token: owner.token }), 'params.org', /NUL/);
    expectField(await server.request('GET', `/orgs/${org}/projects/shop%00x/environments`, { token: owner.token }), 'params.project', /NUL/);
    expectField(await server.request('DELETE', `/orgs/${org}/projects/a%00b`, { token: owner.token }), 'params.project', /NUL/);
  });

  it('refuses a path slug that is no slug with the 400 its schema gives', async () => {
    expectField(await server.request('GET', `/orgs/${org}/projects/${'x'.repeat(100)}`, { token: owner.token }), 'params.project', /must match/);
  });

  it('still answers 401 before anything about the path to a caller without credentials', async () => {
    expect((await server.request('GET', '/orgs/a%00b/projects')).status).toBe(401);
  });

  it('refuses a NUL in an unauthenticated sign-up with 400 naming the field', async () => {
    const response = await server.request('POST', '/auth/signup', { payload: { email: 'a\u0000@example.test', password: 'correct horse battery staple', name: 'n' } });
    expectField(response, 'body.email', /NUL/);
    const name = await server.request('POST', '/auth/signup', { payload: { email: server.email(), password: 'correct horse battery staple', name: 'a\u0000b' } });
    expectField(name, 'body.name', /NUL/);
  });

  it('refuses NUL and lone surrogates in audit filters and audit details, naming the field', async () => {
    expectField(await server.request('GET', `/orgs/${org}/audit-events?target=%00`, { token: owner.token }), 'query.target', /NUL/);
    expectField(await server.request('GET', `/orgs/${org}/audit-events/export?actor=a%00`, { token: owner.token }), 'query.actor', /NUL/);
    const ingest = (details: unknown) =>
      server.request('POST', `/orgs/${org}/audit-events`, { token: owner.token, payload: { event_type: 'TRIGGER_DEPLOYMENT', target_type: 'service', change: 'deployed', details } });
    expectField(await ingest({ commit: 'abc\u0000' }), 'body.details.commit', /NUL/);
    expectField(await ingest({ nested: [{ note: 'x\ud800' }] }), 'body.details.nested[0].note', /lone UTF-16 surrogate/);
    expectField(await ingest({ 'k\u0000': 1 }), 'body.details', /key with a NUL/);
    expectField(await ingest({ k: '\udc00' }), 'body.details.k', /surrogate/);
  });

  it('refuses a lone surrogate written as a JSON escape (what JSON.parse accepts)', async () => {
    const response = await server.request('POST', '/orgs', { token: owner.token, payload: '{"slug":"ok-slug","name":"a\\ud800"}' });
    expectField(response, 'body.name', /surrogate/);
  });

  it('refuses a NUL in a variable value and in a cursor', async () => {
    const created = await server.request('POST', `${base()}/variables`, { token: owner.token, payload: { key: 'NUL_VALUE', value: 'a\u0000b' } });
    expectField(created, 'body.value', /NUL/);
    const cursor = Buffer.from(JSON.stringify(['a\u0000'])).toString('base64url');
    expectField(await server.request('GET', `/orgs?cursor=${cursor}`, { token: owner.token }), 'query.cursor');
    expectField(await server.request('GET', `/orgs/${org}/projects?cursor=${cursor}`, { token: owner.token }), 'query.cursor');
  });

  it('refuses bodies nested deeper than any route needs, naming where', async () => {
    const deep = '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000);
    const response = await server.request('POST', `/orgs/${org}/audit-events`, {
      token: owner.token,
      payload: `{"event_type":"TRIGGER_DEPLOYMENT","target_type":"service","change":"deployed","details":${deep}}`,
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details.reason).toMatch(/nested too deeply/);
  });
});

describe('uuids, numbers and times', () => {
  it('accepts only canonical uuids: urn:uuid and braces are 400 naming the field', async () => {
    for (const value of [`urn:uuid:${owner.id}`, `{${owner.id}}`, owner.id.replace(/-/g, '')]) {
      const response = await server.request('POST', `/orgs/${org}/transfer-ownership`, { token: owner.token, payload: { user_id: value } });
      expectField(response, 'body.user_id', /8-4-4-4-12/);
    }
    expectField(await server.request('GET', `${base()}/resolve?member=urn:uuid:${owner.id}`, { token: owner.token }), 'query.member', /UUID/);
  });

  it('refuses limit=Infinity, -Infinity and 1e309 with 400 naming the limit', async () => {
    for (const limit of ['Infinity', '-Infinity', '1e309']) {
      expectField(await server.request('GET', `/orgs?limit=${limit}`, { token: owner.token }), 'query.limit');
      expectField(await server.request('GET', `/orgs/${org}/audit-events?limit=${limit}`, { token: owner.token }), 'query.limit');
    }
  });

  it('refuses 1e309 in a JSON body (JSON.parse reads it as Infinity) naming the field', async () => {
    const response = await server.request('POST', `${base()}/variables/00000000-0000-4000-8000-000000000000/rollback`, { token: owner.token, payload: '{"version":1e309}' });
    expectField(response, 'body.version', /finite/);
  });

  it('refuses a leap second in time filters and in expires_at, naming the field', async () => {
    expectField(await server.request('GET', `/orgs/${org}/audit-events?from=2016-12-31T23:59:60Z`, { token: owner.token }), 'query.from', /leap second/);
    expectField(await server.request('GET', `/orgs/${org}/audit-events/export?to=2016-12-31T23:59:60Z`, { token: owner.token }), 'query.to', /date-time/);
    const token = await server.request('POST', `/orgs/${org}/tokens`, { token: owner.token, payload: { name: 'leap', preset: 'ci', expires_at: '2030-06-30T23:59:60Z' } });
    expectField(token, 'body.expires_at', /date-time/);
  });

  it('refuses date-times JavaScript and PostgreSQL would read differently or not at all', async () => {
    for (const value of ['0000-01-01T00:00:00Z', '9999-12-31T23:59:59-23:59', '2024-02-30T00:00:00Z', '2024-01-01T00:00:00', '2024-01-01 00:00:00Z']) {
      expectField(await server.request('GET', `/orgs/${org}/audit-events?from=${encodeURIComponent(value)}`, { token: owner.token }), 'query.from');
    }
    expect((await server.request('GET', `/orgs/${org}/audit-events?from=${encodeURIComponent('2024-02-29T23:59:59.123456+05:30')}`, { token: owner.token })).status).toBe(200);
  });
});

describe('the last line of defence', () => {
  it('answers a value the database refused with 400, logs a warning with the request id and never the value', async () => {
    warnings.length = 0;
    const response = await server.request('GET', '/test-data-exception');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('BAD_REQUEST');
    expect(JSON.stringify(response.body)).not.toContain('s3cr3t');
    const warning = warnings.find((entry) => entry.reqId === response.body.error.request_id);
    expect(warning).toMatchObject({ level: 40, sqlstate: '22P02' });
    expect(JSON.stringify(warnings)).not.toContain('s3cr3t');
  });
});
