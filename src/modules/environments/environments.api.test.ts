import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';

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

  it('gets an environment by slug and lists it next to the others', async () => {
    const { owner, base } = await tree();
    const created = await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'dev', type: 'DEVELOPMENT' } });
    const got = await server.expect(200, 'GET', `${base}/dev`, { token: owner.token });
    expect(got.body).toEqual(created.body);
    const list = await server.expect(200, 'GET', base, { token: owner.token });
    expect(list.body.next_cursor).toBeNull();
    expect(list.body.items.map((e: { slug: string }) => e.slug)).toEqual(['dev', 'production']);
    expect(list.body.items[0]).toEqual(created.body);
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

  it('deletes an environment with 204, after which it answers 404 with a JSON error body', async () => {
    const { owner, base } = await tree();
    await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'temp', type: 'PREVIEW' } });
    const deleted = await server.expect(204, 'DELETE', `${base}/temp`, { token: owner.token });
    expect(deleted.raw.body).toBe('');
    const got = await server.expect(404, 'GET', `${base}/temp`, { token: owner.token });
    expect(got.body.error).toMatchObject({ code: 'NOT_FOUND', message: expect.any(String), request_id: expect.any(String) });
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

describe('environments: type', () => {
  it.each(['QA', 'production', 'Production', ''])('refuses the environment type %j with 400 naming body.type', async (type) => {
    const { owner, base } = await tree();
    const response = await server.request('POST', base, { token: owner.token, payload: { slug: 'env', type } });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.type' } });
  });

  it('refuses an environment without a type with 400 naming body.type', async () => {
    const { owner, base } = await tree();
    const response = await server.request('POST', base, { token: owner.token, payload: { slug: 'env' } });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.type' } });
  });

  it('refuses an unknown type in a PATCH with 400 naming body.type and keeps the old one', async () => {
    const { owner, base } = await tree();
    const response = await server.request('PATCH', `${base}/production`, { token: owner.token, payload: { type: 'LIVE' } });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe('body.type');
    const got = await server.expect(200, 'GET', `${base}/production`, { token: owner.token });
    expect(got.body.type).toBe('PRODUCTION');
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
    const created = await server.request('POST', base, {
      token: owner.token,
      payload: { slug: 'sneaky', type: 'DEVELOPMENT', cluster_id: foreign.id },
    });
    expect(created.status).toBe(400);
    expect(created.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.cluster_id' } });
    await server.expect(404, 'GET', `${base}/sneaky`, { token: owner.token });
  });

  it('refuses to move an environment onto a cluster of another organization with 400 naming body.cluster_id', async () => {
    const { owner, base } = await tree();
    const other = await server.tree('other');
    const foreign = await createCluster(other.owner.token, other.org);
    const response = await server.request('PATCH', `${base}/production`, { token: owner.token, payload: { cluster_id: foreign.id } });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe('body.cluster_id');
    const got = await server.expect(200, 'GET', `${base}/production`, { token: owner.token });
    expect(got.body.cluster_id).toBeNull();
  });

  it('refuses an unknown cluster id with 400 naming body.cluster_id', async () => {
    const { owner, base } = await tree();
    const response = await server.request('POST', base, {
      token: owner.token,
      payload: { slug: 'ghost', type: 'DEVELOPMENT', cluster_id: randomUUID() },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe('body.cluster_id');
  });

  it('refuses a cluster id that is not a UUID with 400 naming body.cluster_id', async () => {
    const { owner, base } = await tree();
    const response = await server.request('POST', base, {
      token: owner.token,
      payload: { slug: 'ghost', type: 'DEVELOPMENT', cluster_id: 'k8s' },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.cluster_id' } });
  });

  it('refuses to delete a cluster that hosts an environment with 409, and allows it once the environment is gone', async () => {
    const { owner, org, base } = await tree();
    const cluster = await createCluster(owner.token, org);
    await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'hosted', type: 'STAGING', cluster_id: cluster.id } });

    const refused = await server.request('DELETE', `/orgs/${org}/clusters/${cluster.id}`, { token: owner.token });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('CONFLICT');
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

describe('environments: errors', () => {
  it.each([
    ['with a space and capitals', 'Bad Slug'],
    ['starting with a dash', '-x'],
    ['of 64 characters', 'e'.repeat(64)],
  ])('refuses a slug %s with 400 naming body.slug', async (_label, slug) => {
    const { owner, base } = await tree();
    const response = await server.request('POST', base, { token: owner.token, payload: { slug, type: 'DEVELOPMENT' } });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.slug' } });
  });

  it('refuses an environment without a slug with 400 naming body.slug', async () => {
    const { owner, base } = await tree();
    const response = await server.request('POST', base, { token: owner.token, payload: { type: 'DEVELOPMENT' } });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe('body.slug');
  });

  it('refuses a duplicate environment slug in the same project with 409', async () => {
    const { owner, base } = await tree();
    const response = await server.request('POST', base, { token: owner.token, payload: { slug: 'production', type: 'STAGING' } });
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({ code: 'CONFLICT', details: { field: 'slug' } });
  });

  it('accepts the same environment slug in another project of the organization', async () => {
    const { owner, org } = await tree();
    await server.expect(201, 'POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'blog' } });
    const created = await server.expect(201, 'POST', `/orgs/${org}/projects/blog/environments`, {
      token: owner.token,
      payload: { slug: 'production', type: 'PRODUCTION' },
    });
    const original = await server.expect(200, 'GET', `/orgs/${org}/projects/shop/environments/production`, { token: owner.token });
    expect(created.body.id).not.toBe(original.body.id);
  });

  it('refuses to rename an environment to a slug taken in its project with 409', async () => {
    const { owner, base } = await tree();
    await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'dev', type: 'DEVELOPMENT' } });
    const response = await server.request('PATCH', `${base}/dev`, { token: owner.token, payload: { slug: 'production' } });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('CONFLICT');
  });

  it('answers 404 to the environments of an unknown project', async () => {
    const { owner, org } = await tree();
    for (const [method, payload] of [['GET'], ['POST', { slug: 'dev', type: 'DEVELOPMENT' }]] as const) {
      const response = await server.request(method, `/orgs/${org}/projects/nope/environments`, { token: owner.token, payload });
      expect(response.status, method).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
  });
});

describe('environments: pagination', () => {
  it('pages through environments with limit and next_cursor, each once, in slug order', async () => {
    const { owner, org } = await tree();
    await server.expect(201, 'POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'paged' } });
    const base = `/orgs/${org}/projects/paged/environments`;
    const slugs = ['e-echo', 'e-alpha', 'e-delta', 'e-bravo', 'e-charlie'];
    for (const slug of slugs) await server.expect(201, 'POST', base, { token: owner.token, payload: { slug, type: 'PREVIEW' } });

    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const page = await server.expect(200, 'GET', `${base}${query}`, { token: owner.token });
      pageSizes.push(page.body.items.length);
      seen.push(...page.body.items.map((e: { slug: string }) => e.slug));
      cursor = page.body.next_cursor;
    } while (cursor !== null && seen.length <= slugs.length);

    expect(seen).toEqual([...slugs].sort());
    expect(pageSizes).toEqual([2, 2, 1]);
  });
});
