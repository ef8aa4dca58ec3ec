import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { expectInvalidField, useTestServer } from '../../../test/harness.js';

// Naming rules, unique names, closed values (type, kind), deletion and paging, shared by every collection: test/collections.api.test.ts.
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
  it('creates a project with 201, defaulting its name to the slug, its description to empty and its encryption to server', async () => {
    const { owner, org } = await server.org();
    const response = await server.expect(201, 'POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'web-store' } });
    expect(response.body).toEqual({
      id: expect.stringMatching(UUID),
      slug: 'web-store',
      name: 'web-store',
      description: '',
      encryption: 'server',
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
});

describe('projects: errors', () => {
  it('refuses a description longer than 2000 characters with 400 naming body.description', async () => {
    const { owner, org } = await server.org();
    const response = await server.request('POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'p', description: 'd'.repeat(2001) } });
    expectInvalidField(response, 'body.description');
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
    await server.expect(401, 'GET', `/orgs/${org}/projects`, { token: 'cfs_forged-token-that-was-never-issued' });
    await server.expect(204, 'POST', '/auth/logout', { token: owner.token });
    await server.expect(401, 'GET', `/orgs/${org}/projects`, { token: owner.token });
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
