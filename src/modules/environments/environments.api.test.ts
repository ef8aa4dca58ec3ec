import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expectError, expectInvalidField, useTestServer } from '../../../test/harness.js';

// Naming rules, unique names, closed values (type, kind), deletion and paging, shared by every collection: test/collections.api.test.ts.
const server = useTestServer();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** server.tree(): an owner, an org with project "shop", environment "production" and service "backend". */
async function tree() {
  const { owner, org } = await server.tree();
  return { owner, org, base: `/orgs/${org}/projects/shop/environments` };
}

async function createCluster(token: string, org: string, name = 'k8s') {
  return (await server.expect(201, 'POST', `/orgs/${org}/clusters`, { token, payload: { name } })).body as { id: string };
}

describe('environments: happy path', () => {
  it('creates an environment with 201 and returns its full shape', async () => {
    const { owner, base } = await tree();
    const response = await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'staging', type: 'STAGING' } });
    expect(response.body).toEqual({
      id: expect.stringMatching(UUID),
      slug: 'staging',
      name: 'staging',
      type: 'STAGING',
      cluster_id: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
  });

  it.each(['DEVELOPMENT', 'PREVIEW', 'STAGING', 'PRODUCTION'])('accepts the environment type %s', async (type) => {
    const { owner, base } = await tree();
    const response = await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'env', name: 'Env', type } });
    expect(response.body).toMatchObject({ slug: 'env', name: 'Env', type });
  });

  it('edits the name and type of an environment with PATCH', async () => {
    const { owner, base } = await tree();
    await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'qa', type: 'DEVELOPMENT' } });
    const patched = await server.expect(200, 'PATCH', `${base}/qa`, { token: owner.token, payload: { name: 'Quality', type: 'STAGING' } });
    expect(patched.body).toMatchObject({ slug: 'qa', name: 'Quality', type: 'STAGING' });
    const got = await server.expect(200, 'GET', `${base}/qa`, { token: owner.token });
    expect(got.body).toEqual(patched.body);
  });

  it('renames an environment slug with PATCH, keeping its services', async () => {
    const { owner, base } = await tree();
    const patched = await server.expect(200, 'PATCH', `${base}/production`, { token: owner.token, payload: { slug: 'prod' } });
    expect(patched.body.slug).toBe('prod');
    await server.expect(404, 'GET', `${base}/production`, { token: owner.token });
    await server.expect(200, 'GET', `${base}/prod/services/backend`, { token: owner.token });
  });

  it('deleting an environment removes its services', async () => {
    const { owner, base } = await tree();
    const env = await server.expect(200, 'GET', `${base}/production`, { token: owner.token });
    await server.expect(204, 'DELETE', `${base}/production`, { token: owner.token });
    await server.expect(404, 'GET', `${base}/production/services/backend`, { token: owner.token });
    const row = await server.db
      .selectFrom('services')
      .select((eb) => eb.fn.countAll<string | number | bigint>().as('n'))
      .where('environment_id', '=', env.body.id)
      .executeTakeFirstOrThrow();
    expect(Number(row.n)).toBe(0);
  });
});

describe('environments: cluster', () => {
  it('places an environment on a cluster of the same organization', async () => {
    const { owner, org, base } = await tree();
    const cluster = await createCluster(owner.token, org);
    const created = await server.expect(201, 'POST', base, {
      token: owner.token,
      payload: { slug: 'edge', type: 'PRODUCTION', cluster_id: cluster.id },
    });
    expect(created.body.cluster_id).toBe(cluster.id);
    const got = await server.expect(200, 'GET', `${base}/edge`, { token: owner.token });
    expect(got.body.cluster_id).toBe(cluster.id);
  });

  it('moves an environment onto a cluster and off it again with PATCH', async () => {
    const { owner, org, base } = await tree();
    const cluster = await createCluster(owner.token, org);
    const moved = await server.expect(200, 'PATCH', `${base}/production`, { token: owner.token, payload: { cluster_id: cluster.id } });
    expect(moved.body.cluster_id).toBe(cluster.id);
    const detached = await server.expect(200, 'PATCH', `${base}/production`, { token: owner.token, payload: { cluster_id: null } });
    expect(detached.body.cluster_id).toBeNull();
  });

  it('refuses a cluster of another organization with 400 naming body.cluster_id', async () => {
    const { owner, base } = await tree();
    const other = await server.tree('other');
    const foreign = await createCluster(other.owner.token, other.org);
    const created = await server.request('POST', base, { token: owner.token, payload: { slug: 'sneaky', type: 'DEVELOPMENT', cluster_id: foreign.id } });
    expectInvalidField(created, 'body.cluster_id');
    await server.expect(404, 'GET', `${base}/sneaky`, { token: owner.token });
  });

  it('refuses to move an environment onto a cluster of another organization with 400 naming body.cluster_id', async () => {
    const { owner, base } = await tree();
    const other = await server.tree('other');
    const foreign = await createCluster(other.owner.token, other.org);
    expectInvalidField(await server.request('PATCH', `${base}/production`, { token: owner.token, payload: { cluster_id: foreign.id } }), 'body.cluster_id');
    const got = await server.expect(200, 'GET', `${base}/production`, { token: owner.token });
    expect(got.body.cluster_id).toBeNull();
  });

  it.each([
    ['an unknown cluster id', randomUUID()],
    ['a cluster id that is not a UUID', 'k8s'],
  ])('refuses %s with 400 naming body.cluster_id', async (_label, cluster_id) => {
    const { owner, base } = await tree();
    expectInvalidField(await server.request('POST', base, { token: owner.token, payload: { slug: 'ghost', type: 'DEVELOPMENT', cluster_id } }), 'body.cluster_id');
  });

  it('refuses to delete a cluster that hosts an environment with 409, and allows it once the environment is gone', async () => {
    const { owner, org, base } = await tree();
    const cluster = await createCluster(owner.token, org);
    await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'hosted', type: 'STAGING', cluster_id: cluster.id } });

    expectError(await server.request('DELETE', `/orgs/${org}/clusters/${cluster.id}`, { token: owner.token }), 409, 'CONFLICT');
    await server.expect(200, 'GET', `/orgs/${org}/clusters/${cluster.id}`, { token: owner.token });

    await server.expect(204, 'DELETE', `${base}/hosted`, { token: owner.token });
    await server.expect(204, 'DELETE', `/orgs/${org}/clusters/${cluster.id}`, { token: owner.token });
    await server.expect(404, 'GET', `/orgs/${org}/clusters/${cluster.id}`, { token: owner.token });
  });

  it('allows deleting a cluster once its environment has been moved off it', async () => {
    const { owner, org, base } = await tree();
    const cluster = await createCluster(owner.token, org);
    await server.expect(200, 'PATCH', `${base}/production`, { token: owner.token, payload: { cluster_id: cluster.id } });
    await server.expect(409, 'DELETE', `/orgs/${org}/clusters/${cluster.id}`, { token: owner.token });
    await server.expect(200, 'PATCH', `${base}/production`, { token: owner.token, payload: { cluster_id: null } });
    await server.expect(204, 'DELETE', `/orgs/${org}/clusters/${cluster.id}`, { token: owner.token });
  });
});
