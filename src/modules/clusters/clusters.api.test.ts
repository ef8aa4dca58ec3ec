import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';

const server = useTestServer();

async function createCluster(token: string, org: string, payload: Record<string, unknown>) {
  return (await server.expect(201, 'POST', `/orgs/${org}/clusters`, { token, payload })).body as { id: string; name: string };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('clusters: happy path', () => {
  it('creates a cluster with 201 and returns its full shape', async () => {
    const { owner, org } = await server.org();
    const response = await server.expect(201, 'POST', `/orgs/${org}/clusters`, {
      token: owner.token,
      payload: { name: 'Main EU', region: 'eu-west-3' },
    });
    expect(response.body).toEqual({
      id: expect.stringMatching(UUID),
      name: 'Main EU',
      region: 'eu-west-3',
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(new Date(response.body.created_at).toISOString()).toBe(response.body.created_at);
  });

  it('creates a cluster without a region, which reads back as null', async () => {
    const { owner, org } = await server.org();
    const cluster = await createCluster(owner.token, org, { name: 'no-region' });
    const got = await server.expect(200, 'GET', `/orgs/${org}/clusters/${cluster.id}`, { token: owner.token });
    expect(got.body).toMatchObject({ id: cluster.id, name: 'no-region', region: null });
  });

  it('gets a cluster by id and lists it', async () => {
    const { owner, org } = await server.org();
    const cluster = await createCluster(owner.token, org, { name: 'k8s-prod', region: 'us-east-1' });
    const got = await server.expect(200, 'GET', `/orgs/${org}/clusters/${cluster.id}`, { token: owner.token });
    expect(got.body).toEqual(cluster);
    const list = await server.expect(200, 'GET', `/orgs/${org}/clusters`, { token: owner.token });
    expect(list.body).toEqual({ items: [cluster], next_cursor: null });
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

  it('deletes a cluster with 204, after which it answers 404 and is no longer listed', async () => {
    const { owner, org } = await server.org();
    const cluster = await createCluster(owner.token, org, { name: 'doomed' });
    const deleted = await server.expect(204, 'DELETE', `/orgs/${org}/clusters/${cluster.id}`, { token: owner.token });
    expect(deleted.raw.body).toBe('');
    const got = await server.expect(404, 'GET', `/orgs/${org}/clusters/${cluster.id}`, { token: owner.token });
    expect(got.body.error).toMatchObject({ code: 'NOT_FOUND', message: expect.any(String), request_id: expect.any(String) });
    const list = await server.expect(200, 'GET', `/orgs/${org}/clusters`, { token: owner.token });
    expect(list.body.items).toEqual([]);
  });
});

describe('clusters: errors', () => {
  it('refuses a cluster without a name with 400 naming body.name', async () => {
    const { owner, org } = await server.org();
    const response = await server.request('POST', `/orgs/${org}/clusters`, { token: owner.token, payload: { region: 'eu' } });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.name' } });
  });

  it('refuses an empty or over-long cluster name with 400 naming body.name', async () => {
    const { owner, org } = await server.org();
    for (const name of ['', 'x'.repeat(201)]) {
      const response = await server.request('POST', `/orgs/${org}/clusters`, { token: owner.token, payload: { name } });
      expect(response.status, JSON.stringify(name)).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.name' } });
    }
  });

  it('refuses a duplicate cluster name in the same organization with 409', async () => {
    const { owner, org } = await server.org();
    await createCluster(owner.token, org, { name: 'shared-name' });
    const response = await server.request('POST', `/orgs/${org}/clusters`, { token: owner.token, payload: { name: 'shared-name' } });
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({ code: 'CONFLICT', details: { field: 'name' } });
  });

  it('accepts the same cluster name in two different organizations', async () => {
    const a = await server.org();
    const b = await server.org();
    const first = await createCluster(a.owner.token, a.org, { name: 'prod' });
    const second = await createCluster(b.owner.token, b.org, { name: 'prod' });
    expect(first.id).not.toBe(second.id);
  });

  it('refuses to rename a cluster to a name already taken in the organization with 409', async () => {
    const { owner, org } = await server.org();
    await createCluster(owner.token, org, { name: 'taken' });
    const other = await createCluster(owner.token, org, { name: 'free' });
    const response = await server.request('PATCH', `/orgs/${org}/clusters/${other.id}`, {
      token: owner.token,
      payload: { name: 'taken' },
    });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('CONFLICT');
    const got = await server.expect(200, 'GET', `/orgs/${org}/clusters/${other.id}`, { token: owner.token });
    expect(got.body.name).toBe('free');
  });

  it('answers 404, not 500, to a cluster id that is not a UUID', async () => {
    const { owner, org } = await server.org();
    for (const id of ['not-a-uuid', '12345', `${randomUUID()}x`, 'z'.repeat(64)]) {
      for (const [method, payload] of [['GET'], ['PATCH', { name: 'x' }], ['DELETE']] as const) {
        const response = await server.request(method, `/orgs/${org}/clusters/${id}`, { token: owner.token, payload });
        expect(response.status, `${method} ${id}`).toBe(404);
        expect(response.body.error.code).toBe('NOT_FOUND');
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

  it('answers 404 to the clusters of an organization that does not exist', async () => {
    const { owner } = await server.org();
    const response = await server.request('GET', `/orgs/${server.slug('ghost')}/clusters`, { token: owner.token });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('NOT_FOUND');
  });
});

describe('clusters: pagination', () => {
  it('pages through clusters with limit and next_cursor, each once, in name order', async () => {
    const { owner, org } = await server.org();
    const names = ['echo', 'alpha', 'delta', 'bravo', 'charlie'];
    for (const name of names) await createCluster(owner.token, org, { name });

    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const page = await server.expect(200, 'GET', `/orgs/${org}/clusters${query}`, { token: owner.token });
      pageSizes.push(page.body.items.length);
      seen.push(...page.body.items.map((c: { name: string }) => c.name));
      cursor = page.body.next_cursor;
    } while (cursor !== null && seen.length <= names.length);

    expect(seen).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'echo']);
    expect(pageSizes).toEqual([2, 2, 1]);
  });

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
      const response = await server.request('GET', `/orgs/${org}/clusters?limit=${limit}`, { token: owner.token });
      expect(response.status, limit).toBe(400);
      expect(response.body.error.details.field).toBe('query.limit');
    }
  });
});
