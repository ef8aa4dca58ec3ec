import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expectInvalidField } from '../../../test/harness.js';
import { server, SYSTEM_ROLES, createCluster, createProject, createEnvironment, createRole, levels, platformEngineers, projectWith, seedOrg } from '../../../test/fixtures/roles.js';

type SeedBody = ReturnType<typeof platformEngineers>;

describe('roles: validation and conflicts', () => {
  it.each([
    ['project id', 'body.project_permissions[2].project_id', (body: SeedBody) => (body.project_permissions[2]!.project_id = randomUUID())],
    ['cluster id', 'body.cluster_permissions[1].cluster_id', (body: SeedBody) => (body.cluster_permissions[1]!.cluster_id = randomUUID())],
  ])('names the entry of an unknown %s with 400 (%s)', async (_label, field, unknown) => {
    const { owner, org, ids } = await seedOrg();
    const body = platformEngineers(ids);
    unknown(body);
    expectInvalidField(await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: body }), field);
  });

  it('names the entry of an unknown environment id with 400', async () => {
    const { owner, org } = await server.org();
    const { environments } = await projectWith(owner.token, org, 'Store', { dev: 'DEVELOPMENT' });
    const environment_permissions = [environments.dev, randomUUID()].map((environment_id) => ({ environment_id, permissions: ['BASIC_VISIBILITY'] }));
    const response = await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: { name: 'Envs', environment_permissions } });
    expectInvalidField(response, 'body.environment_permissions[1].environment_id');
  });

  it("refuses the ids of another organization's cluster, project and environment with 400, on POST and PUT", async () => {
    const mine = await server.org();
    const theirs = await server.org();
    const slug = server.slug('p');
    const project = await createProject(theirs.owner.token, theirs.org, 'Theirs', slug);
    const cluster = await createCluster(theirs.owner.token, theirs.org, 'their cluster');
    const env = await createEnvironment(theirs.owner.token, theirs.org, slug, 'prod', 'PRODUCTION');
    const role = await createRole(mine.owner.token, mine.org, { name: 'Mine' });
    const bodies = [
      [{ name: 'X', project_permissions: [{ project_id: project, is_admin: true }] }, 'body.project_permissions[0].project_id'],
      [{ name: 'X', cluster_permissions: [{ cluster_id: cluster, permission: 'ADMIN' }] }, 'body.cluster_permissions[0].cluster_id'],
      [{ name: 'X', environment_permissions: [{ environment_id: env, permissions: ['ENVIRONMENT_ADMIN'] }] }, 'body.environment_permissions[0].environment_id'],
    ] as const;
    for (const [payload, field] of bodies) {
      for (const [method, url] of [
        ['POST', `/orgs/${mine.org}/roles`],
        ['PUT', `/orgs/${mine.org}/roles/${role.id}`],
      ] as const) {
        const response = await server.request(method, url, { token: mine.owner.token, payload });
        expect(response.status, `${method} ${field}`).toBe(400);
        expect(response.body.error.details.field).toBe(field);
      }
    }
    const got = await server.expect(200, 'GET', `/orgs/${mine.org}/roles/${role.id}`, { token: mine.owner.token });
    expect(got.body).toMatchObject({ name: 'Mine', project_permissions: [], cluster_permissions: [], environment_permissions: [] });
  });

  it.each([
    ['a cluster level', { cluster_permissions: [{ cluster_id: randomUUID(), permission: 'OWNER' }] }, /^body\.cluster_permissions(\[0\]|\.0)\.permission$/],
    [
      'a project level',
      { project_permissions: [{ project_id: randomUUID(), permissions: [{ environment_type: 'PRODUCTION', permission: 'SUPERUSER' }] }] },
      /^body\.project_permissions(\[0\]|\.0)\.permissions(\[0\]|\.0)\.permission$/,
    ],
    [
      'an environment type',
      { project_permissions: [{ project_id: randomUUID(), permissions: [{ environment_type: 'QA', permission: 'VIEWER' }] }] },
      /^body\.project_permissions(\[0\]|\.0)\.permissions(\[0\]|\.0)\.environment_type$/,
    ],
    [
      'a permission set',
      { environment_permissions: [{ environment_id: randomUUID(), permissions: ['BASIC_VISIBILITY', 'GOD_MODE'] }] },
      /^body\.environment_permissions(\[0\]|\.0)\.permissions(\[1\]|\.1)$/,
    ],
  ])('refuses an unknown name of %s with 400 naming the field', async (_label, lists, field) => {
    const { owner, org } = await server.org();
    const response = await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: { name: 'Bad', ...lists } });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.body.error.details.field).toMatch(field);
  });

  it('refuses an unknown field in an entry with 400 naming it', async () => {
    const { owner, org } = await server.org();
    const project = await createProject(owner.token, org, 'Store');
    const response = await server.request('POST', `/orgs/${org}/roles`, {
      token: owner.token,
      payload: { name: 'Bad', project_permissions: [{ project_id: project, is_admin: true, is_owner: true }] },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toMatch(/^body\.project_permissions(\[0\]|\.0)\.is_owner$/);
  });

  it('refuses a role without a name, or with a malformed id in an entry, with 400 and no 500', async () => {
    const { owner, org } = await server.org();
    const missing = await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: { description: 'nameless' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.field).toBe('body.name');
    const malformed = await server.request('POST', `/orgs/${org}/roles`, {
      token: owner.token,
      payload: { name: 'Bad', cluster_permissions: [{ cluster_id: 'not-a-uuid', permission: 'VIEWER' }] },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details.field).toMatch(/^body\.cluster_permissions(\[0\]|\.0)\.cluster_id$/);
  });

  it('refuses the same cluster, project or environment listed twice with 400 naming the second entry', async () => {
    const { owner, org } = await server.org();
    const { id: project, environments: { dev: env } } = await projectWith(owner.token, org, 'Store', { dev: 'DEVELOPMENT' });
    const cluster = await createCluster(owner.token, org, 'c');
    const bodies = [
      [{ cluster_permissions: [{ cluster_id: cluster, permission: 'VIEWER' }, { cluster_id: cluster, permission: 'ADMIN' }] }, 'body.cluster_permissions[1]'],
      [{ project_permissions: [{ project_id: project, is_admin: true }, { project_id: project, permissions: levels('VIEWER') }] }, 'body.project_permissions[1]'],
      [
        {
          environment_permissions: [
            { environment_id: env, permissions: ['OPS'] },
            { environment_id: env, permissions: ['TUNNEL'] },
          ],
        },
        'body.environment_permissions[1]',
      ],
    ] as const;
    for (const [lists, field] of bodies) {
      const response = await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: { name: 'Twice', ...lists } });
      expect(response.status, field).toBe(400);
      expect(response.body.error.details.field).toBe(field);
    }
  });

  it('refuses one permission set given twice in an environment entry with 400 naming its permissions', async () => {
    const { owner, org } = await server.org();
    const { environments } = await projectWith(owner.token, org, 'Store', { dev: 'DEVELOPMENT' });
    const payload = { name: 'Twice', environment_permissions: [{ environment_id: environments.dev, permissions: ['OPS', 'TUNNEL', 'OPS'] }] };
    expectInvalidField(await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload }), 'body.environment_permissions[0].permissions');
  });

  it('refuses one environment type given twice in a project entry with 400 naming it', async () => {
    const { owner, org } = await server.org();
    const project = await createProject(owner.token, org, 'Store');
    const response = await server.request('POST', `/orgs/${org}/roles`, {
      token: owner.token,
      payload: {
        name: 'Twice',
        project_permissions: [
          {
            project_id: project,
            permissions: [
              { environment_type: 'STAGING', permission: 'VIEWER' },
              { environment_type: 'STAGING', permission: 'ADMIN' },
            ],
          },
        ],
      },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe('body.project_permissions[0].permissions[1]');
  });

  it('refuses a duplicate role name with 409, on POST and on a PUT renaming another role', async () => {
    const { owner, org } = await server.org();
    await createRole(owner.token, org, { name: 'Support' });
    const other = await createRole(owner.token, org, { name: 'Other' });
    const created = await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: { name: 'Support' } });
    expect(created.status).toBe(409);
    expect(created.body.error).toMatchObject({ code: 'CONFLICT', details: { field: 'name' } });
    const renamed = await server.request('PUT', `/orgs/${org}/roles/${other.id}`, { token: owner.token, payload: { name: 'Support' } });
    expect(renamed.status).toBe(409);
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${other.id}`, { token: owner.token });
    expect(got.body.name).toBe('Other');
  });

  it('compares role names without regard to case: "SUPPORT" beside "Support" is a 409, a role may change its own case', async () => {
    const { owner, org } = await server.org();
    const support = await createRole(owner.token, org, { name: 'Support' });
    const other = await createRole(owner.token, org, { name: 'Other' });
    const created = await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: { name: 'SUPPORT' } });
    expect(created.status).toBe(409);
    expect(created.body.error.details.field).toBe('name');
    await server.expect(409, 'PUT', `/orgs/${org}/roles/${other.id}`, { token: owner.token, payload: { name: 'support' } });
    const recased = await server.expect(200, 'PUT', `/orgs/${org}/roles/${support.id}`, { token: owner.token, payload: { name: 'SUPPORT' } });
    expect(recased.body).toMatchObject({ id: support.id, name: 'SUPPORT' });
  });

  it('accepts the same role name in two organizations, and a PUT keeping its own name', async () => {
    const a = await server.org();
    const b = await server.org();
    const role = await createRole(a.owner.token, a.org, { name: 'Support' });
    await createRole(b.owner.token, b.org, { name: 'Support' });
    await server.expect(200, 'PUT', `/orgs/${a.org}/roles/${role.id}`, { token: a.owner.token, payload: { name: 'Support', description: 'x' } });
  });

  it.each(['ADMIN', 'admin', 'Owner', 'VIEWER', 'api_user', 'Custom'])('refuses a role named like the system role (or role marker) %s with 400 naming body.name', async (name) => {
    const { owner, org } = await server.org();
    expectInvalidField(await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: { name } }), 'body.name');
  });

  it('refuses to rename a custom role to a system role name with 400', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Fine' });
    expectInvalidField(await server.request('PUT', `/orgs/${org}/roles/${role.id}`, { token: owner.token, payload: { name: 'Admin' } }), 'body.name');
  });

  it('refuses to replace or delete a system role with 409, and it stays as it was', async () => {
    const { owner, org } = await server.org();
    const before = await server.expect(200, 'GET', `/orgs/${org}/roles/ADMIN`, { token: owner.token });
    const put = await server.request('PUT', `/orgs/${org}/roles/ADMIN`, { token: owner.token, payload: { name: 'Renamed admin' } });
    expect(put.status).toBe(409);
    expect(put.body.error.code).toBe('CONFLICT');
    for (const role of SYSTEM_ROLES) {
      const deleted = await server.request('DELETE', `/orgs/${org}/roles/${role}`, { token: owner.token });
      expect(deleted.status, role).toBe(409);
    }
    const after = await server.expect(200, 'GET', `/orgs/${org}/roles/ADMIN`, { token: owner.token });
    expect(after.body).toEqual(before.body);
  });

  it('answers 404 to PUT and DELETE of an unknown role id', async () => {
    const { owner, org } = await server.org();
    const id = randomUUID();
    await server.expect(404, 'PUT', `/orgs/${org}/roles/${id}`, { token: owner.token, payload: { name: 'Ghost' } });
    await server.expect(404, 'DELETE', `/orgs/${org}/roles/${id}`, { token: owner.token });
  });
});
