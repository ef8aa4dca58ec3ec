import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';

const server = useTestServer();

async function createProject(token: string, org: string, payload: Record<string, unknown>) {
  return (await server.expect(201, 'POST', `/orgs/${org}/projects`, { token, payload })).body as { id: string; slug: string };
}

async function count(table: 'projects' | 'environments' | 'services' | 'clusters' | 'memberships' | 'invitations', column: string, ids: string[]) {
  if (ids.length === 0) return 0;
  const row = await server.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string | number | bigint>().as('n'))
    .where(sql.ref(column), 'in', ids)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('projects: happy path', () => {
  it('creates a project with 201, defaulting its name to the slug and its description to empty', async () => {
    const { owner, org } = await server.org();
    const response = await server.expect(201, 'POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'web-store' } });
    expect(response.body).toEqual({
      id: expect.stringMatching(UUID),
      slug: 'web-store',
      name: 'web-store',
      description: '',
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
  });

  it('creates a project with a name and a description', async () => {
    const { owner, org } = await server.org();
    const project = await createProject(owner.token, org, { slug: 'api', name: 'Public API', description: 'The REST API' });
    expect(project).toMatchObject({ slug: 'api', name: 'Public API', description: 'The REST API' });
  });

  it('accepts a slug of exactly 63 characters and of a single digit', async () => {
    const { owner, org } = await server.org();
    await createProject(owner.token, org, { slug: `a${'-'.repeat(61)}z` });
    await createProject(owner.token, org, { slug: '7' });
  });

  it('gets a project by slug and lists it', async () => {
    const { owner, org } = await server.org();
    const project = await createProject(owner.token, org, { slug: 'catalog', name: 'Catalog' });
    const got = await server.expect(200, 'GET', `/orgs/${org}/projects/catalog`, { token: owner.token });
    expect(got.body).toEqual(project);
    const list = await server.expect(200, 'GET', `/orgs/${org}/projects`, { token: owner.token });
    expect(list.body).toEqual({ items: [project], next_cursor: null });
  });

  it('edits a project name and description with PATCH', async () => {
    const { owner, org } = await server.org();
    const project = await createProject(owner.token, org, { slug: 'billing' });
    const patched = await server.expect(200, 'PATCH', `/orgs/${org}/projects/billing`, {
      token: owner.token,
      payload: { name: 'Billing', description: 'Invoices and payments' },
    });
    expect(patched.body).toMatchObject({ id: project.id, slug: 'billing', name: 'Billing', description: 'Invoices and payments' });
    const got = await server.expect(200, 'GET', `/orgs/${org}/projects/billing`, { token: owner.token });
    expect(got.body).toEqual(patched.body);
  });

  it('renames a project slug with PATCH: the new slug answers and the old one is 404', async () => {
    const { owner, org } = await server.org();
    const project = await createProject(owner.token, org, { slug: 'old-slug' });
    const patched = await server.expect(200, 'PATCH', `/orgs/${org}/projects/old-slug`, { token: owner.token, payload: { slug: 'new-slug' } });
    expect(patched.body).toMatchObject({ id: project.id, slug: 'new-slug' });
    await server.expect(200, 'GET', `/orgs/${org}/projects/new-slug`, { token: owner.token });
    await server.expect(404, 'GET', `/orgs/${org}/projects/old-slug`, { token: owner.token });
  });

  it('deletes a project with 204, after which it answers 404 with a JSON error body', async () => {
    const { owner, org } = await server.org();
    await createProject(owner.token, org, { slug: 'doomed' });
    const deleted = await server.expect(204, 'DELETE', `/orgs/${org}/projects/doomed`, { token: owner.token });
    expect(deleted.raw.body).toBe('');
    const got = await server.expect(404, 'GET', `/orgs/${org}/projects/doomed`, { token: owner.token });
    expect(got.body.error).toMatchObject({ code: 'NOT_FOUND', message: expect.any(String), request_id: expect.any(String) });
    const list = await server.expect(200, 'GET', `/orgs/${org}/projects`, { token: owner.token });
    expect(list.body.items).toEqual([]);
  });
});

describe('projects: errors', () => {
  it.each([
    ['with a space and capitals', 'Bad Slug'],
    ['starting with a dash', '-x'],
    ['of 64 characters', 'a'.repeat(64)],
    ['that is empty', ''],
    ['with an underscore', 'under_score'],
  ])('refuses a slug %s with 400 naming body.slug', async (_label, slug) => {
    const { owner, org } = await server.org();
    const response = await server.request('POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug } });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.slug' } });
  });

  it('refuses a bad slug in a PATCH with 400 naming body.slug', async () => {
    const { owner, org } = await server.org();
    await createProject(owner.token, org, { slug: 'fine' });
    const response = await server.request('PATCH', `/orgs/${org}/projects/fine`, { token: owner.token, payload: { slug: 'Not Fine' } });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe('body.slug');
  });

  it('refuses a project without a slug with 400 naming body.slug', async () => {
    const { owner, org } = await server.org();
    const response = await server.request('POST', `/orgs/${org}/projects`, { token: owner.token, payload: { name: 'Nameless' } });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.slug' } });
  });

  it('refuses a description longer than 2000 characters with 400 naming body.description', async () => {
    const { owner, org } = await server.org();
    const response = await server.request('POST', `/orgs/${org}/projects`, {
      token: owner.token,
      payload: { slug: 'p', description: 'd'.repeat(2001) },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe('body.description');
  });

  it('refuses a duplicate project slug with 409', async () => {
    const { owner, org } = await server.org();
    await createProject(owner.token, org, { slug: 'twin' });
    const response = await server.request('POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'twin' } });
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({ code: 'CONFLICT', details: { field: 'slug' } });
  });

  it('accepts the same project slug in two different organizations', async () => {
    const a = await server.org();
    const b = await server.org();
    const first = await createProject(a.owner.token, a.org, { slug: 'same' });
    const second = await createProject(b.owner.token, b.org, { slug: 'same' });
    expect(first.id).not.toBe(second.id);
  });

  it('refuses to rename a project to a slug already taken in the organization with 409', async () => {
    const { owner, org } = await server.org();
    await createProject(owner.token, org, { slug: 'taken' });
    await createProject(owner.token, org, { slug: 'mine' });
    const response = await server.request('PATCH', `/orgs/${org}/projects/mine`, { token: owner.token, payload: { slug: 'taken' } });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('CONFLICT');
    await server.expect(200, 'GET', `/orgs/${org}/projects/mine`, { token: owner.token });
  });

  it("answers 404 to another organization's project addressed through one's own", async () => {
    const mine = await server.org();
    const theirs = await server.org();
    await createProject(theirs.owner.token, theirs.org, { slug: 'secret-plans' });
    await server.expect(404, 'GET', `/orgs/${mine.org}/projects/secret-plans`, { token: mine.owner.token });
    await server.expect(404, 'DELETE', `/orgs/${mine.org}/projects/secret-plans`, { token: mine.owner.token });
    await server.expect(200, 'GET', `/orgs/${theirs.org}/projects/secret-plans`, { token: theirs.owner.token });
  });
});

describe('projects: security', () => {
  it('answers 401 to a forged or revoked session token', async () => {
    const { owner, org } = await server.org();
    const forged = await server.request('GET', `/orgs/${org}/projects`, { token: 'cfs_forged-token-that-was-never-issued' });
    expect(forged.status).toBe(401);
    await server.expect(204, 'POST', '/auth/logout', { token: owner.token });
    const revoked = await server.request('GET', `/orgs/${org}/projects`, { token: owner.token });
    expect(revoked.status).toBe(401);
  });
});

describe('projects: pagination', () => {
  it('pages through projects with limit and next_cursor, each once, in slug order', async () => {
    const { owner, org } = await server.org();
    const slugs = ['p-echo', 'p-alpha', 'p-delta', 'p-bravo', 'p-charlie'];
    for (const slug of slugs) await createProject(owner.token, org, { slug });

    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const page = await server.expect(200, 'GET', `/orgs/${org}/projects${query}`, { token: owner.token });
      pageSizes.push(page.body.items.length);
      seen.push(...page.body.items.map((p: { slug: string }) => p.slug));
      cursor = page.body.next_cursor;
    } while (cursor !== null && seen.length <= slugs.length);

    expect(seen).toEqual([...slugs].sort());
    expect(pageSizes).toEqual([2, 2, 1]);
  });
});

describe('projects: cascades', () => {
  it('deleting an organization whose cluster hosts an environment succeeds with 204', async () => {
    const { owner, org } = await server.tree();
    const cluster = await server.expect(201, 'POST', `/orgs/${org}/clusters`, { token: owner.token, payload: { name: 'k8s' } });
    await server.expect(200, 'PATCH', `/orgs/${org}/projects/shop/environments/production`, {
      token: owner.token,
      payload: { cluster_id: cluster.body.id },
    });
    await server.expect(204, 'DELETE', `/orgs/${org}`, { token: owner.token });
    await server.expect(404, 'GET', `/orgs/${org}`, { token: owner.token });
    await server.expect(404, 'GET', `/orgs/${org}/clusters/${cluster.body.id}`, { token: owner.token });
  });

  it('deleting a project removes its environments and services, and nothing of its siblings', async () => {
    const { owner, org } = await server.org();
    const doomed = await createProject(owner.token, org, { slug: 'doomed' });
    const kept = await createProject(owner.token, org, { slug: 'kept' });
    const envIds: string[] = [];
    for (const project of ['doomed', 'kept']) {
      for (const [env, type] of [['dev', 'DEVELOPMENT'], ['prod', 'PRODUCTION']]) {
        const created = await server.expect(201, 'POST', `/orgs/${org}/projects/${project}/environments`, {
          token: owner.token,
          payload: { slug: env, type },
        });
        if (project === 'doomed') envIds.push(created.body.id);
        await server.expect(201, 'POST', `/orgs/${org}/projects/${project}/environments/${env}/services`, {
          token: owner.token,
          payload: { slug: 'api', kind: 'application' },
        });
      }
    }
    expect(await count('environments', 'project_id', [doomed.id])).toBe(2);
    expect(await count('services', 'environment_id', envIds)).toBe(2);

    await server.expect(204, 'DELETE', `/orgs/${org}/projects/doomed`, { token: owner.token });

    await server.expect(404, 'GET', `/orgs/${org}/projects/doomed/environments/dev`, { token: owner.token });
    await server.expect(404, 'GET', `/orgs/${org}/projects/doomed/environments/prod/services/api`, { token: owner.token });
    expect(await count('environments', 'project_id', [doomed.id])).toBe(0);
    expect(await count('services', 'environment_id', envIds)).toBe(0);

    expect(await count('environments', 'project_id', [kept.id])).toBe(2);
    await server.expect(200, 'GET', `/orgs/${org}/projects/kept/environments/prod/services/api`, { token: owner.token });
  });

  it('a project re-created with a deleted slug starts empty', async () => {
    const { owner, org } = await server.org();
    await createProject(owner.token, org, { slug: 'phoenix' });
    await server.expect(201, 'POST', `/orgs/${org}/projects/phoenix/environments`, {
      token: owner.token,
      payload: { slug: 'dev', type: 'DEVELOPMENT' },
    });
    await server.expect(204, 'DELETE', `/orgs/${org}/projects/phoenix`, { token: owner.token });
    await createProject(owner.token, org, { slug: 'phoenix' });
    const envs = await server.expect(200, 'GET', `/orgs/${org}/projects/phoenix/environments`, { token: owner.token });
    expect(envs.body.items).toEqual([]);
  });

  it('deleting an organization removes its members, invitations, clusters, projects, environments and services', async () => {
    const { owner, org } = await server.tree();
    const member = await server.user('member');
    const orgRow = await server.db.selectFrom('organizations').select('id').where('slug', '=', org).executeTakeFirstOrThrow();
    const cluster = await server.expect(201, 'POST', `/orgs/${org}/clusters`, { token: owner.token, payload: { name: 'k8s' } });
    expect(cluster.body.id).toMatch(UUID);
    await server.expect(201, 'POST', `/orgs/${org}/projects/shop/environments`, {
      token: owner.token,
      payload: { slug: 'staging', type: 'STAGING' },
    });
    const invitation = await server.expect(201, 'POST', `/orgs/${org}/invitations`, {
      token: owner.token,
      payload: { email: member.email, role: 'VIEWER' },
    });
    await server.expect(200, 'POST', `/invitations/${invitation.body.token}/accept`, { token: member.token });
    await server.expect(201, 'POST', `/orgs/${org}/invitations`, { token: owner.token, payload: { email: server.email(), role: 'VIEWER' } });

    const projectIds = (await server.db.selectFrom('projects').select('id').where('organization_id', '=', orgRow.id).execute()).map((r) => r.id);
    const envIds = (await server.db.selectFrom('environments').select('id').where('project_id', 'in', projectIds).execute()).map((r) => r.id);
    expect(envIds).toHaveLength(2);
    expect(await count('services', 'environment_id', envIds)).toBe(1);

    await server.expect(204, 'DELETE', `/orgs/${org}`, { token: owner.token });

    await server.expect(404, 'GET', `/orgs/${org}`, { token: owner.token });
    await server.expect(404, 'GET', `/orgs/${org}/projects/shop`, { token: owner.token });
    await server.expect(404, 'GET', `/orgs/${org}/projects/shop/environments/production/services/backend`, { token: owner.token });
    for (const table of ['projects', 'clusters', 'memberships', 'invitations'] as const) {
      expect(await count(table, 'organization_id', [orgRow.id]), table).toBe(0);
    }
    expect(await count('environments', 'id', envIds)).toBe(0);
    expect(await count('services', 'environment_id', envIds)).toBe(0);

    const orgs = await server.expect(200, 'GET', '/orgs', { token: member.token });
    expect(orgs.body.items).toEqual([]);
  });
});
