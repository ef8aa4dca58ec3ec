import { beforeAll, describe, expect, it } from 'vitest';
import { expectInvalidField, useTestServer } from '../../../test/harness.js';
import { until } from '../../../test/receiver.js';
import { openStream } from '../../../test/sse.js';

const server = useTestServer({ changePollMs: 20 });
const ENV = '/projects/shop/environments/production';
const SERVICE = `${ENV}/services/backend`;
const VALUE = 'fake-value-never-streamed-0123456789';
let address: string;

beforeAll(async () => {
  address = await server.app.listen({ port: 0, host: '127.0.0.1' });
});

const stream = (url: string, token: string, headers: Record<string, string> = {}) => openStream(`${address}/api/v1${url}`, { authorization: `Bearer ${token}`, ...headers });

describe('change stream', () => {
  it('streams the changes that reach a service, at every scope, with ids and never a value', async () => {
    const { org, owner } = await server.tree();
    const developer = await server.member(owner.token, org, 'DEVELOPER');
    await server.expect(201, 'POST', `/orgs/${org}/projects/shop/environments`, { token: owner.token, payload: { slug: 'staging', type: 'STAGING' } });
    const watching = await stream(`/orgs/${org}${SERVICE}/changes`, owner.token);
    expect(watching.response.status).toBe(200);
    expect(watching.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const write = (url: string, payload: Record<string, unknown>) => server.expect(201, 'POST', `/orgs/${org}${url}/variables`, { token: owner.token, payload });
    await write(SERVICE, { key: 'SERVICE_KEY', type: 'secret', value: VALUE });
    await write(ENV, { key: 'ENV_KEY', value: VALUE });
    await write('', { key: 'ORG_KEY', value: VALUE });
    await write('/projects/shop', { key: 'PROJECT_KEY', value: VALUE });
    await write('/projects/shop/environments/staging', { key: 'BESIDE_KEY', value: VALUE });
    await write('/projects/shop', { key: 'THEIRS', value: VALUE, assignee_user_id: developer.id });
    await write(SERVICE, { key: 'LAST_KEY', value: VALUE });
    await until('the last change', () => watching.events.some((event) => event.data.includes('LAST_KEY')));
    await watching.stop();
    const changes = watching.events.map((event) => ({ ...JSON.parse(event.data), event_id: event.id, event: event.event }));
    expect(changes.map((change) => change.key)).toEqual(['SERVICE_KEY', 'ENV_KEY', 'ORG_KEY', 'PROJECT_KEY', 'LAST_KEY']);
    expect(changes[0]).toMatchObject({ event: 'variable.changed', scope: 'service', version: 1, operation: 'CREATE', type: 'secret' });
    expect(changes.every((change) => change.event_id === String(change.id))).toBe(true);
    expect(JSON.stringify(watching.events)).not.toContain(VALUE);
  });

  it('resumes after Last-Event-ID, replaying what happened while away', async () => {
    const { org, owner } = await server.tree();
    const first = await stream(`/orgs/${org}${ENV}/changes`, owner.token);
    const created = await server.expect(201, 'POST', `/orgs/${org}${ENV}/variables`, { token: owner.token, payload: { key: 'A', value: 'x' } });
    await until('the first event', () => first.events.length === 1);
    await first.stop();
    await server.expect(200, 'PATCH', `/orgs/${org}${ENV}/variables/${created.body.id}`, { token: owner.token, payload: { value: 'y' } });
    await server.expect(201, 'POST', `/orgs/${org}${ENV}/variables`, { token: owner.token, payload: { key: 'B', value: 'x' } });
    const resumed = await stream(`/orgs/${org}${ENV}/changes`, owner.token, { 'last-event-id': first.events[0]!.id! });
    await until('the two missed changes', () => resumed.events.length === 2);
    await resumed.stop();
    expect(resumed.events.map((event) => JSON.parse(event.data)).map((change) => [change.key, change.version])).toEqual([
      ['A', 2],
      ['B', 1],
    ]);
  });

  it('streams every change of a batch write (creates and updates), none of what it left alone', async () => {
    const { org, owner } = await server.tree();
    await server.expect(201, 'POST', `/orgs/${org}${ENV}/variables`, { token: owner.token, payload: { key: 'KEPT', value: 'same' } });
    await server.expect(201, 'POST', `/orgs/${org}${ENV}/variables`, { token: owner.token, payload: { key: 'CHANGED', value: 'old' } });
    const watching = await stream(`/orgs/${org}${ENV}/changes`, owner.token);
    const variables = [
      { key: 'KEPT', value: 'same' },
      { key: 'CHANGED', value: VALUE },
      { key: 'NEW_ONE', type: 'secret', value: VALUE },
      { key: 'NEW_TWO', value: VALUE },
    ];
    await server.expect(200, 'POST', `/orgs/${org}${ENV}/variables/batch`, { token: owner.token, payload: { variables } });
    await until('the three changes', () => watching.events.length >= 3);
    await watching.stop();
    const changes = watching.events.map((event) => JSON.parse(event.data) as { key: string; version: number; operation: string });
    expect(changes.map((change) => [change.key, change.version, change.operation]).sort()).toEqual([
      ['CHANGED', 2, 'UPDATE'],
      ['NEW_ONE', 1, 'CREATE'],
      ['NEW_TWO', 1, 'CREATE'],
    ]);
    expect(JSON.stringify(watching.events)).not.toContain(VALUE);
  });

  it('answers 404 to whoever may not see the place, and 400 to a Last-Event-ID it never sent', async () => {
    const { org, owner } = await server.tree();
    const stranger = await server.org();
    expect((await server.request('GET', `/orgs/${org}${SERVICE}/changes`, { token: stranger.owner.token })).status).toBe(404);
    expect((await server.request('GET', `/orgs/${org}${SERVICE}/changes`)).status).toBe(401);
    expectInvalidField(await server.request('GET', `/orgs/${org}${SERVICE}/changes`, { token: owner.token, headers: { 'last-event-id': 'abc' } }), 'headers.last-event-id');
  });
});
