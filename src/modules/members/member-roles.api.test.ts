import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expectError } from '../../../test/harness.js';
import { server, owners, roleOf, customRole, changeRole, createCluster } from '../../../test/fixtures/member-roles.js';

describe('PATCH /orgs/{org}/members/{user_id}: changing a role', () => {
  // A system role's id is its name, as GET /roles lists it.
  it.each([
    ['{role}', { role: 'DEVELOPER' }, 'DEVELOPER'],
    ["a system role's id as role_id", { role_id: 'DEVOPS' }, 'DEVOPS'],
  ])('gives a member a system role with %s and answers the assignment', async (_label, payload, role) => {
    const { owner, org } = await server.tree();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const response = await changeRole(org, owner.token, viewer.id, payload);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ user_id: viewer.id, role, role_id: null, role_name: null });
    expect(await roleOf(org, owner.token, viewer.id)).toMatchObject({ role, role_id: null, role_name: null });
  });

  it('gives a member a custom role with {role_id}; the members list shows its role_id and role_name', async () => {
    const { owner, org } = await server.tree();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const roleId = await customRole(org, owner.token, 'Platform Engineers');
    const response = await changeRole(org, owner.token, viewer.id, { role_id: roleId });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ user_id: viewer.id, role: 'CUSTOM', role_id: roleId, role_name: 'Platform Engineers' });
    expect(await roleOf(org, owner.token, viewer.id)).toMatchObject({ role: 'CUSTOM', role_id: roleId, role_name: 'Platform Engineers' });
  });

  it('moves a custom-role member back to a system role, clearing role_id and role_name', async () => {
    const { owner, org } = await server.tree();
    const member = await server.member(owner.token, org, 'VIEWER');
    const roleId = await customRole(org, owner.token, 'Contractors');
    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role_id: roleId } });
    const response = await changeRole(org, owner.token, member.id, { role: 'MEMBER' });
    expect(response.body).toEqual({ user_id: member.id, role: 'MEMBER', role_id: null, role_name: null });
    expect(await roleOf(org, owner.token, member.id)).toMatchObject({ role: 'MEMBER', role_id: null, role_name: null });
  });

  it("applies a promotion on the member's very next request, and a demotion too", async () => {
    const { owner, org } = await server.tree();
    const member = await server.member(owner.token, org, 'VIEWER');

    const before = await createCluster(org, member.token);
    expect(before.status).toBe(403);
    expect(before.body.error).toMatchObject({ code: 'FORBIDDEN', details: { action: 'cluster:manage' } });

    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role: 'ADMIN' } });
    expect((await createCluster(org, member.token)).status).toBe(201);

    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role: 'VIEWER' } });
    const after = await createCluster(org, member.token);
    expect(after.status).toBe(403);
    expect(after.body.error.details.action).toBe('cluster:manage');
  });

  it('applies a custom role on the next request: a project it does not list becomes invisible, and visible again once moved back', async () => {
    const { owner, org } = await server.tree();
    const member = await server.member(owner.token, org, 'VIEWER');
    await server.expect(200, 'GET', `/orgs/${org}/projects/shop`, { token: member.token });

    const roleId = await customRole(org, owner.token, 'Nothing yet');
    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role_id: roleId } });
    await server.expect(404, 'GET', `/orgs/${org}/projects/shop`, { token: member.token });
    await server.expect(200, 'GET', `/orgs/${org}`, { token: member.token });

    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role: 'VIEWER' } });
    await server.expect(200, 'GET', `/orgs/${org}/projects/shop`, { token: member.token });
  });

  it('lets an ADMIN change the role of another member', async () => {
    const { owner, org } = await server.tree();
    const admin = await server.member(owner.token, org, 'ADMIN');
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const response = await changeRole(org, admin.token, viewer.id, { role: 'AUDITOR' });
    expect(response.status).toBe(200);
    expect(await roleOf(org, owner.token, viewer.id)).toMatchObject({ role: 'AUDITOR' });
  });

  // A second OWNER is a conflict, not a validation error: there is exactly one OWNER.
  it.each([{ role: 'OWNER' }, { role_id: 'OWNER' }])('refuses %j with 409, and the member keeps their role', async (payload) => {
    const { owner, org } = await server.tree();
    const admin = await server.member(owner.token, org, 'ADMIN');
    expectError(await changeRole(org, owner.token, admin.id, payload), 409, 'CONFLICT');
    expect(await owners(org, owner.token)).toEqual([owner.id]);
    expect(await roleOf(org, owner.token, admin.id)).toMatchObject({ role: 'ADMIN' });
  });

  it("refuses to change the OWNER's role with 409, whether the OWNER or an ADMIN asks", async () => {
    const { owner, org } = await server.tree();
    const admin = await server.member(owner.token, org, 'ADMIN');
    const roleId = await customRole(org, owner.token, 'Anything');
    for (const [token, payload] of [
      [owner.token, { role: 'ADMIN' }],
      [admin.token, { role: 'VIEWER' }],
      [admin.token, { role_id: roleId }],
    ] as const) {
      const response = await changeRole(org, token, owner.id, payload);
      expect(response.status, JSON.stringify(payload)).toBe(409);
      expect(response.body.error.code).toBe('CONFLICT');
    }
    expect(await roleOf(org, owner.token, owner.id)).toMatchObject({ role: 'OWNER', role_id: null });
  });

  it('refuses both role and role_id, or neither, with 400 naming body', async () => {
    const { owner, org } = await server.tree();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const roleId = await customRole(org, owner.token, 'Either');
    for (const payload of [{}, { role: 'ADMIN', role_id: roleId }]) {
      const response = await changeRole(org, owner.token, viewer.id, payload);
      expect(response.status, JSON.stringify(payload)).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body' } });
    }
    expect(await roleOf(org, owner.token, viewer.id)).toMatchObject({ role: 'VIEWER', role_id: null });
  });

  it('refuses an unknown role_id, or a custom role of another organization, with 400 naming body.role_id', async () => {
    const { owner, org } = await server.tree();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const other = await server.tree();
    const foreignRole = await customRole(other.org, other.owner.token, 'Foreign');
    for (const roleId of [randomUUID(), 'not-a-role', 'CUSTOM', foreignRole]) {
      const response = await changeRole(org, owner.token, viewer.id, { role_id: roleId });
      expect(response.status, roleId).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.role_id' } });
    }
    expect(await roleOf(org, owner.token, viewer.id)).toMatchObject({ role: 'VIEWER', role_id: null });
  });

  it('refuses an unknown system role with 400 naming body.role', async () => {
    const { owner, org } = await server.tree();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    for (const role of ['SUPERUSER', 'CUSTOM', 'admin']) {
      const response = await changeRole(org, owner.token, viewer.id, { role });
      expect(response.status, role).toBe(400);
      expect(response.body.error.details.field).toBe('body.role');
    }
  });

  it('answers 404 to changing the role of someone who is not a member', async () => {
    const { owner, org } = await server.tree();
    const stranger = await server.user('stranger');
    const other = await server.tree();
    for (const userId of [randomUUID(), 'not-a-uuid', stranger.id, other.owner.id]) {
      const response = await changeRole(org, owner.token, userId, { role: 'ADMIN' });
      expect(response.status, userId).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
    await server.expect(404, 'GET', `/orgs/${org}`, { token: stranger.token });
  });

  it('refuses a VIEWER changing roles with 403 naming member:manage, and nothing changes', async () => {
    const { owner, org } = await server.tree();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const other = await server.member(owner.token, org, 'DEVELOPER');
    for (const [userId, payload] of [
      [viewer.id, { role: 'ADMIN' }],
      [other.id, { role: 'VIEWER' }],
    ] as const) {
      const response = await changeRole(org, viewer.token, userId, payload);
      expect(response.status).toBe(403);
      expect(response.body.error).toMatchObject({ code: 'FORBIDDEN', details: { action: 'member:manage' } });
    }
    expect(await roleOf(org, owner.token, viewer.id)).toMatchObject({ role: 'VIEWER' });
    expect(await roleOf(org, owner.token, other.id)).toMatchObject({ role: 'DEVELOPER' });
  });
});
