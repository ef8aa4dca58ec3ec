import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expectError, expectInvalidField, useTestServer } from '../../../test/harness.js';

// Naming rules, unique names, closed values (type, kind), deletion and paging, shared by every collection: test/collections.api.test.ts.
const server = useTestServer();

async function createCluster(token: string, org: string, payload: Record<string, unknown>) {
  return (await server.expect(201, 'POST', `/orgs/${org}/clusters`, { token, payload })).body as { id: string; name: string; created_at: string };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('clusters: happy path', () => {
  it('creates a cluster with 201 and returns its full shape', async () => {
    const { owner, org } = await server.org();
    const cluster = await createCluster(owner.token, org, { name: 'Main EU', region: 'eu-west-3' });
    expect(cluster).toEqual({ id: expect.stringMatching(UUID), name: 'Main EU', region: 'eu-west-3', created_at: expect.any(String), updated_at: expect.any(String) });
    expect(new Date(cluster.created_at).toISOString()).toBe(cluster.created_at);
  });

  it('creates a cluster without a region, which reads back as null', async () => {
    const { owner, org } = await server.org();
    const cluster = await createCluster(owner.token, org, { name: 'no-region' });
    const got = await server.expect(200, 'GET', `/orgs/${org}/clusters/${cluster.id}`, { token: owner.token });
    expect(got.body).toMatchObject({ id: cluster.id, name: 'no-region', region: null });
  });

  it('lists no clusters in a new organization', async () => {
    const { owner, org } = await server.org();
    const list = await server.expect(200, 'GET', `/orgs/${org}/clusters`, { token: owner.token });
    expect(list.body).toEqual({ items: [], next_cursor: null });
  });

  it('renames a cluster and changes its region with PATCH', async () => {
    const { owner, org } = await server.org();
    const cluster = await createCluster(owner.token, org, { name: 'old-name', region: 'eu-west-1' });
    const patched = await server.expect(200, 'PATCH', `/orgs/${org}/clusters/${cluster.id}`, {
      token: owner.token,
      payload: { name: 'new-name', region: 'eu-central-1' },
    });
    expect(patched.body).toMatchObject({ id: cluster.id, name: 'new-name', region: 'eu-central-1' });
    const got = await server.expect(200, 'GET', `/orgs/${org}/clusters/${cluster.id}`, { token: owner.token });
    expect(got.body).toMatchObject({ name: 'new-name', region: 'eu-central-1' });
  });

  it('clears a region with PATCH region null and keeps the name', async () => {
    const { owner, org } = await server.org();
    const cluster = await createCluster(owner.token, org, { name: 'keep-me', region: 'eu-west-1' });
    const patched = await server.expect(200, 'PATCH', `/orgs/${org}/clusters/${cluster.id}`, {
      token: owner.token,
      payload: { region: null },
    });
    expect(patched.body).toMatchObject({ name: 'keep-me', region: null });
  });
});

describe('clusters: errors', () => {
  it('answers 404, not 500, to a cluster id that is not a UUID', async () => {
    const { owner, org } = await server.org();
    for (const id of ['not-a-uuid', '12345', `${randomUUID()}x`, 'z'.repeat(64)]) {
      for (const [method, payload] of [['GET'], ['PATCH', { name: 'x' }], ['DELETE']] as const) {
        expectError(await server.request(method, `/orgs/${org}/clusters/${id}`, { token: owner.token, payload }), 404, 'NOT_FOUND');
      }
    }
  });

  it("answers 404 to a cluster of another organization addressed through one's own", async () => {
    const mine = await server.org();
    const theirs = await server.org();
    const foreign = await createCluster(theirs.owner.token, theirs.org, { name: 'foreign' });
    const url = `/orgs/${mine.org}/clusters/${foreign.id}`;
    for (const [method, payload] of [['GET'], ['PATCH', { name: 'stolen' }], ['DELETE']] as const) {
      const response = await server.request(method, url, { token: mine.owner.token, payload });
      expect(response.status, method).toBe(404);
    }
    const still = await server.expect(200, 'GET', `/orgs/${theirs.org}/clusters/${foreign.id}`, { token: theirs.owner.token });
    expect(still.body.name).toBe('foreign');
  });
});

describe('clusters: pagination', () => {
  it('returns next_cursor null when the last page is exactly full', async () => {
    const { owner, org } = await server.org();
    for (const name of ['a1', 'a2']) await createCluster(owner.token, org, { name });
    const page = await server.expect(200, 'GET', `/orgs/${org}/clusters?limit=2`, { token: owner.token });
    expect(page.body.items).toHaveLength(2);
    expect(page.body.next_cursor).toBeNull();
  });

  it('refuses a limit outside 1..200 with 400 naming query.limit', async () => {
    const { owner, org } = await server.org();
    for (const limit of ['0', '201', 'many']) {
      expectInvalidField(await server.request('GET', `/orgs/${org}/clusters?limit=${limit}`, { token: owner.token }), 'query.limit');
    }
  });
});
