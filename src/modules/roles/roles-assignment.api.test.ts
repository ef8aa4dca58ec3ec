import { describe, expect, it } from 'vitest';
import { expectError, expectInvalidField } from '../../../test/harness.js';
import { server, SYSTEM_ROLES, createCluster, createProject, createRole, projectWith } from '../../../test/fixtures/roles.js';

describe('roles: assignment and deletion', () => {
  it('deletes a custom role nobody holds with 204, after which it answers 404 and is not listed', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Short-lived' });
    const deleted = await server.expect(204, 'DELETE', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(deleted.raw.body).toBe('');
    await server.expect(404, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    const list = await server.expect(200, 'GET', `/orgs/${org}/roles`, { token: owner.token });
    expect(list.body.items.map((r: { id: string }) => r.id)).toEqual(SYSTEM_ROLES);
  });

  it('assigns a custom role with PATCH /members/{user_id} {role_id}, shown in the members list', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Support' });
    const member = await server.member(owner.token, org, 'VIEWER');
    const patched = await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, {
      token: owner.token,
      payload: { role_id: role.id },
    });
    expect(patched.body).toEqual({ user_id: member.id, role: 'CUSTOM', role_id: role.id, role_name: 'Support' });
    const members = await server.expect(200, 'GET', `/orgs/${org}/members`, { token: owner.token });
    expect(members.body.items.find((m: { user_id: string }) => m.user_id === member.id)).toMatchObject({
      role: 'CUSTOM',
      role_id: role.id,
      role_name: 'Support',
    });
  });

  it('shows the new name of a renamed role in the members list', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Before' });
    const member = await server.holder(owner.token, org, role.id);
    await server.expect(200, 'PUT', `/orgs/${org}/roles/${role.id}`, { token: owner.token, payload: { name: 'After' } });
    const members = await server.expect(200, 'GET', `/orgs/${org}/members`, { token: owner.token });
    expect(members.body.items.find((m: { user_id: string }) => m.user_id === member.id)).toMatchObject({ role: 'CUSTOM', role_id: role.id, role_name: 'After' });
  });

  it("refuses to assign another organization's custom role with 400 naming body.role_id", async () => {
    const { owner, org } = await server.org();
    const theirs = await server.org();
    const role = await createRole(theirs.owner.token, theirs.org, { name: 'Theirs' });
    const member = await server.member(owner.token, org, 'VIEWER');
    expectInvalidField(await server.request('PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role_id: role.id } }), 'body.role_id');
  });

  it('refuses to delete a role a member holds with 409, and deletes it once they hold another', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Held' });
    const member = await server.holder(owner.token, org, role.id);

    expectError(await server.request('DELETE', `/orgs/${org}/roles/${role.id}`, { token: owner.token }), 409, 'CONFLICT', { members: 1 });
    await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });

    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role: 'VIEWER' } });
    await server.expect(204, 'DELETE', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
  });

  it('lets a role be deleted once its only holder has left the organization', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Held' });
    const member = await server.holder(owner.token, org, role.id);
    await server.expect(204, 'DELETE', `/orgs/${org}/members/${member.id}`, { token: member.token });
    await server.expect(204, 'DELETE', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
  });
});

describe('roles: references to deleted resources', () => {
  it('removes a deleted project from the roles that listed it, keeping the other entries in order', async () => {
    const { owner, org } = await server.org();
    const doomed = server.slug('p');
    const first = await createProject(owner.token, org, 'First');
    const middle = await createProject(owner.token, org, 'Doomed', doomed);
    const last = await createProject(owner.token, org, 'Last');
    const role = await createRole(owner.token, org, {
      name: 'Projects',
      project_permissions: [first, middle, last].map((project_id) => ({ project_id, is_admin: true })),
    });
    await server.expect(204, 'DELETE', `/orgs/${org}/projects/${doomed}`, { token: owner.token });
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.project_permissions.map((p: { project_id: string }) => p.project_id)).toEqual([first, last]);
  });

  it('removes a deleted cluster from the roles that listed it', async () => {
    const { owner, org } = await server.org();
    const kept = await createCluster(owner.token, org, 'kept');
    const doomed = await createCluster(owner.token, org, 'doomed');
    const role = await createRole(owner.token, org, {
      name: 'Clusters',
      cluster_permissions: [
        { cluster_id: doomed, permission: 'ADMIN' },
        { cluster_id: kept, permission: 'VIEWER' },
      ],
    });
    await server.expect(204, 'DELETE', `/orgs/${org}/clusters/${doomed}`, { token: owner.token });
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.cluster_permissions).toEqual([{ cluster_id: kept, cluster_name: 'kept', permission: 'VIEWER' }]);
  });

  it('removes a deleted environment from the roles that listed it, and those of a deleted project', async () => {
    const { owner, org } = await server.org();
    const { slug, environments: { dev, prod } } = await projectWith(owner.token, org, 'Store', { dev: 'DEVELOPMENT', prod: 'PRODUCTION' });
    const role = await createRole(owner.token, org, {
      name: 'Envs',
      environment_permissions: [
        { environment_id: dev, permissions: ['OPS'] },
        { environment_id: prod, permissions: ['TUNNEL'] },
      ],
    });
    await server.expect(204, 'DELETE', `/orgs/${org}/projects/${slug}/environments/dev`, { token: owner.token });
    let got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.environment_permissions.map((e: { environment_id: string }) => e.environment_id)).toEqual([prod]);

    await server.expect(204, 'DELETE', `/orgs/${org}/projects/${slug}`, { token: owner.token });
    got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.environment_permissions).toEqual([]);
  });
});

describe('roles: security', () => {
  it("shows a custom role's lists only to those who manage roles: they name places others may not see", async () => {
    const { owner, org } = await server.org();
    const hidden = await createProject(owner.token, org, 'Secret Project');
    const role = await createRole(owner.token, org, { name: 'Insiders', project_permissions: [{ project_id: hidden, is_admin: true }] });
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const seen = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: viewer.token });
    expect(seen.body).toEqual({ id: role.id, name: 'Insiders', description: '', system: false, created_at: expect.any(String), updated_at: expect.any(String) });
    const full = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(full.body.project_permissions[0]).toMatchObject({ project_id: hidden, project_name: 'Secret Project' });
  });

  it('refuses an environment entry that grants no permission set, and names with surrounding spaces', async () => {
    const { owner, org } = await server.org();
    const { environments } = await projectWith(owner.token, org, 'P', { prod: 'PRODUCTION' });
    const empty = { name: 'Empty', environment_permissions: [{ environment_id: environments.prod, permissions: [] }] };
    expectInvalidField(await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: empty }), 'body.environment_permissions[0].permissions');
    expectInvalidField(await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: { name: ' ADMIN ' } }), 'body.name');
  });

  it('refuses a VIEWER creating, replacing or deleting roles with 403 naming member:manage, and changes nothing', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Untouched' });
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const routes = [
      ['POST', `/orgs/${org}/roles`, { name: 'Sneaky' }],
      ['PUT', `/orgs/${org}/roles/${role.id}`, { name: 'Sneaky' }],
      ['DELETE', `/orgs/${org}/roles/${role.id}`],
    ] as const;
    for (const [method, url, payload] of routes) {
      expectError(await server.request(method, url, { token: viewer.token, payload }), 403, 'FORBIDDEN', { action: 'member:manage' });
    }
    const list = await server.expect(200, 'GET', `/orgs/${org}/roles`, { token: owner.token });
    expect(list.body.items.map((r: { name: string }) => r.name)).toEqual([...SYSTEM_ROLES, 'Untouched']);
  });

  it('lets an ADMIN manage roles', async () => {
    const { owner, org } = await server.org();
    const admin = await server.member(owner.token, org, 'ADMIN');
    const role = await createRole(admin.token, org, { name: 'By admin' });
    await server.expect(200, 'PUT', `/orgs/${org}/roles/${role.id}`, { token: admin.token, payload: { name: 'By admin, edited' } });
    await server.expect(204, 'DELETE', `/orgs/${org}/roles/${role.id}`, { token: admin.token });
  });

  it('refuses a member of a custom role managing roles, even its own, with 403', async () => {
    const { owner, org } = await server.org();
    const project = await createProject(owner.token, org, 'Store');
    const role = await createRole(owner.token, org, { name: 'Project admins', project_permissions: [{ project_id: project, is_admin: true }] });
    const member = await server.holder(owner.token, org, role.id);
    await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: member.token });
    const response = await server.request('PUT', `/orgs/${org}/roles/${role.id}`, { token: member.token, payload: { name: 'Project admins' } });
    expectError(response, 403, 'FORBIDDEN', { action: 'member:manage' });
    await server.expect(403, 'POST', `/orgs/${org}/roles`, { token: member.token, payload: { name: 'Escalated' } });
  });
});
