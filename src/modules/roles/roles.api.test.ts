import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { server, UUID, SYSTEM_ROLES, createCluster, createProject, createRole, platformEngineers, projectWith, seedOrg } from '../../../test/fixtures/roles.js';

describe('roles: listing and reading', () => {
  it('lists the 9 system roles, marked system: true, before any custom role exists', async () => {
    const { owner, org } = await server.org();
    const list = await server.expect(200, 'GET', `/orgs/${org}/roles`, { token: owner.token });
    expect(list.body.items.map((r: { id: string }) => r.id)).toEqual(SYSTEM_ROLES);
    for (const role of list.body.items) {
      expect(role).toMatchObject({ id: role.name, system: true, description: expect.any(String) });
    }
  });

  it("shows each system role's grants as the evaluator holds them: DEVELOPER writes secrets outside PRODUCTION only", async () => {
    const { owner, org } = await server.org();
    const developer = (await server.expect(200, 'GET', `/orgs/${org}/roles/DEVELOPER`, { token: owner.token })).body;
    expect(developer.grants.organization).toEqual(['organization:read']);
    expect(developer.grants.environments.STAGING).toContain('secret:write');
    expect(developer.grants.environments.PRODUCTION).not.toContain('secret:write');
    expect(developer.grants.environments.PRODUCTION).toContain('secret:read');
    const list = await server.expect(200, 'GET', `/orgs/${org}/roles`, { token: owner.token });
    const byName = Object.fromEntries(list.body.items.map((r: { name: string; grants: unknown }) => [r.name, r.grants]));
    expect(byName.OWNER.organization).toContain('organization:delete');
    expect(byName.ADMIN.organization).not.toContain('organization:delete');
    expect(byName.AUDITOR.organization).toContain('audit:read');
    expect(byName.VIEWER.organization).not.toContain('audit:read');
  });

  it('lists custom roles after the system roles, marked system: false', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Support', description: 'Read-only support staff' });
    const list = await server.expect(200, 'GET', `/orgs/${org}/roles`, { token: owner.token });
    expect(list.body.items).toHaveLength(10);
    expect(list.body.items.slice(0, 9).every((r: { system: boolean }) => r.system)).toBe(true);
    expect(list.body.items[9]).toMatchObject({ id: role.id, name: 'Support', description: 'Read-only support staff', system: false });
  });

  it("does not list another organization's custom roles", async () => {
    const mine = await server.org();
    const theirs = await server.org();
    await createRole(theirs.owner.token, theirs.org, { name: 'Theirs' });
    const list = await server.expect(200, 'GET', `/orgs/${mine.org}/roles`, { token: mine.owner.token });
    expect(list.body.items.map((r: { name: string }) => r.name)).toEqual(SYSTEM_ROLES);
  });

  it('gets a system role by its name with 200 and system: true', async () => {
    const { owner, org } = await server.org();
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/ADMIN`, { token: owner.token });
    expect(got.body).toMatchObject({ id: 'ADMIN', name: 'ADMIN', system: true, description: expect.any(String) });
  });

  it('lets any member, even a VIEWER, list and read roles', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Readable' });
    const viewer = await server.user('viewer');
    await server.join(owner.token, org, viewer, 'VIEWER');
    await server.expect(200, 'GET', `/orgs/${org}/roles`, { token: viewer.token });
    await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: viewer.token });
  });

  it('answers 404 to an unknown role id, a malformed one and a lowercase system role name', async () => {
    const { owner, org } = await server.org();
    for (const id of [randomUUID(), 'not-a-role', 'admin']) {
      const response = await server.request('GET', `/orgs/${org}/roles/${id}`, { token: owner.token });
      expect(response.status, id).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
  });

  it("answers 404 to another organization's custom role addressed through one's own", async () => {
    const mine = await server.org();
    const theirs = await server.org();
    const role = await createRole(theirs.owner.token, theirs.org, { name: 'Theirs' });
    await server.expect(404, 'GET', `/orgs/${mine.org}/roles/${role.id}`, { token: mine.owner.token });
    await server.expect(404, 'PUT', `/orgs/${mine.org}/roles/${role.id}`, { token: mine.owner.token, payload: { name: 'Hijacked' } });
    await server.expect(404, 'DELETE', `/orgs/${mine.org}/roles/${role.id}`, { token: mine.owner.token });
    const still = await server.expect(200, 'GET', `/orgs/${theirs.org}/roles/${role.id}`, { token: theirs.owner.token });
    expect(still.body.name).toBe('Theirs');
  });
});

describe("roles: seed 001's bodies round-trip", () => {
  it('creates a role from the seed POST body (name and description) with 201 and empty lists', async () => {
    const { owner, org } = await server.org();
    const created = await server.expect(201, 'POST', `/orgs/${org}/roles`, {
      token: owner.token,
      payload: { name: 'Platform Engineers', description: 'Role for all Platform Engineers' },
    });
    expect(created.body).toEqual({
      id: expect.stringMatching(UUID),
      name: 'Platform Engineers',
      description: 'Role for all Platform Engineers',
      system: false,
      cluster_permissions: [],
      project_permissions: [],
      environment_permissions: [],
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${created.body.id}`, { token: owner.token });
    expect(got.body).toEqual(created.body);
  });

  it('defaults a missing description to empty', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'No description' });
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.description).toBe('');
  });

  it('accepts the seed platformengineer.json PUT body as is and reads it back in the same shape', async () => {
    const { owner, org, ids } = await seedOrg();
    const role = await createRole(owner.token, org, { name: 'Platform Engineers', description: 'Role for all Platform Engineers' });
    const body = platformEngineers(ids);
    const put = await server.expect(200, 'PUT', `/orgs/${org}/roles/${role.id}`, { token: owner.token, payload: body });
    const expected = {
      ...body,
      id: role.id,
      system: false,
      environment_permissions: [],
      created_at: expect.any(String),
      updated_at: expect.any(String),
    };
    expect(put.body).toEqual(expected);
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body).toEqual(expected);
    // The is_admin project carries no permissions key at all, as in the seed.
    expect(got.body.project_permissions[0]).not.toHaveProperty('permissions');
    const list = await server.expect(200, 'GET', `/orgs/${org}/roles`, { token: owner.token });
    expect(list.body.items.find((r: { id: string }) => r.id === role.id)).toEqual(expected);
  });

  it('fills cluster_name and project_name from the real names, whatever the body said or omitted', async () => {
    const { owner, org, ids } = await seedOrg();
    const body = platformEngineers(ids);
    const payload = {
      ...body,
      cluster_permissions: [
        { cluster_id: ids.eks, cluster_name: 'a name that is wrong', permission: 'ADMIN' },
        { cluster_id: ids.production, permission: 'ENV_CREATOR' },
      ],
      project_permissions: body.project_permissions.map(({ project_name: _ignored, ...rest }) => rest),
    };
    const created = await server.expect(201, 'POST', `/orgs/${org}/roles`, { token: owner.token, payload });
    expect(created.body.cluster_permissions).toEqual(body.cluster_permissions);
    expect(created.body.project_permissions).toEqual(body.project_permissions);
  });

  it('reads back the current names after a cluster or project is renamed', async () => {
    const { owner, org } = await server.org();
    const cluster = await createCluster(owner.token, org, 'old cluster');
    const slug = server.slug('p');
    const project = await createProject(owner.token, org, 'Old project', slug);
    const role = await createRole(owner.token, org, {
      name: 'Renames',
      cluster_permissions: [{ cluster_id: cluster, permission: 'VIEWER' }],
      project_permissions: [{ project_id: project, is_admin: true }],
    });
    await server.expect(200, 'PATCH', `/orgs/${org}/clusters/${cluster}`, { token: owner.token, payload: { name: 'new cluster' } });
    await server.expect(200, 'PATCH', `/orgs/${org}/projects/${slug}`, { token: owner.token, payload: { name: 'New project' } });
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.cluster_permissions).toEqual([{ cluster_id: cluster, cluster_name: 'new cluster', permission: 'VIEWER' }]);
    expect(got.body.project_permissions).toEqual([{ project_id: project, project_name: 'New project', is_admin: true }]);
  });

  it('preserves the order of entries as given, not the order of names or ids', async () => {
    const { owner, org } = await server.org();
    const clusters = [await createCluster(owner.token, org, 'zulu'), await createCluster(owner.token, org, 'alpha'), await createCluster(owner.token, org, 'mike')];
    const projects = [
      await createProject(owner.token, org, 'Zeta'),
      await createProject(owner.token, org, 'Alpha'),
      await createProject(owner.token, org, 'Mu'),
    ];
    const payload = {
      name: 'Ordered',
      cluster_permissions: [clusters[2], clusters[0], clusters[1]].map((cluster_id) => ({ cluster_id, permission: 'VIEWER' })),
      project_permissions: [projects[1], projects[2], projects[0]].map((project_id) => ({ project_id, is_admin: true })),
    };
    const role = await createRole(owner.token, org, payload);
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.cluster_permissions.map((c: { cluster_name: string }) => c.cluster_name)).toEqual(['mike', 'zulu', 'alpha']);
    expect(got.body.project_permissions.map((p: { project_name: string }) => p.project_name)).toEqual(['Alpha', 'Mu', 'Zeta']);
  });

  it('round-trips environment_permissions with the seed 004 set names, filling environment_name and project_name', async () => {
    const { owner, org } = await server.org();
    const { environments } = await projectWith(owner.token, org, 'Store', { production: 'PRODUCTION', staging: 'STAGING' });
    const { production, staging } = environments;
    const environment_permissions = [
      { environment_id: production, permissions: ['BASIC_VISIBILITY', 'FULL_VISIBILITY', 'ENVIRONMENT_ADMIN', 'DEPLOYMENT'] },
      { environment_id: staging, permissions: ['DESTRUCTION', 'OPS', 'SENSITIVE_ACCESS', 'TUNNEL'] },
    ];
    const role = await createRole(owner.token, org, { name: 'Per environment', environment_permissions });
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.environment_permissions).toEqual([
      { ...environment_permissions[0], environment_name: 'production', project_name: 'Store' },
      { ...environment_permissions[1], environment_name: 'staging', project_name: 'Store' },
    ]);
  });

  it('reads back only the environment types a project entry gave, and is_admin: false when it was omitted', async () => {
    const { owner, org } = await server.org();
    const project = await createProject(owner.token, org, 'Partial');
    const permissions = [
      { environment_type: 'STAGING', permission: 'DEPLOYER' },
      { environment_type: 'PRODUCTION', permission: 'MANAGER' },
    ];
    const role = await createRole(owner.token, org, { name: 'Partial', project_permissions: [{ project_id: project, permissions }] });
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.project_permissions).toEqual([{ project_id: project, project_name: 'Partial', is_admin: false, permissions }]);
  });

  it('replaces every list on PUT: entries left out are gone', async () => {
    const { owner, org, ids } = await seedOrg();
    const role = await createRole(owner.token, org, platformEngineers(ids));
    const put = await server.expect(200, 'PUT', `/orgs/${org}/roles/${role.id}`, {
      token: owner.token,
      payload: { name: 'Platform Engineers', project_permissions: [{ project_id: ids.product, is_admin: true }] },
    });
    expect(put.body).toMatchObject({
      description: '',
      cluster_permissions: [],
      project_permissions: [{ project_id: ids.product, project_name: 'Product', is_admin: true }],
      environment_permissions: [],
    });
  });

  it('renames a role with PUT and keeps its id', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Before' });
    const put = await server.expect(200, 'PUT', `/orgs/${org}/roles/${role.id}`, {
      token: owner.token,
      payload: { name: 'After', description: 'Renamed' },
    });
    expect(put.body).toMatchObject({ id: role.id, name: 'After', description: 'Renamed' });
    const list = await server.expect(200, 'GET', `/orgs/${org}/roles`, { token: owner.token });
    expect(list.body.items.map((r: { name: string }) => r.name)).toContain('After');
    expect(list.body.items.map((r: { name: string }) => r.name)).not.toContain('Before');
  });
});
