import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';

/**
 * Role changes, removals and ownership transfer (SPEC §1, §2.4): exactly one OWNER per
 * organization, ownership moves only by transfer, and every change takes effect on the
 * member's very next request.
 */

const server = useTestServer();


interface MemberRow {
  user_id: string;
  role: string;
  role_id: string | null;
  role_name: string | null;
}

async function members(org: string, token: string): Promise<MemberRow[]> {
  return (await server.expect(200, 'GET', `/orgs/${org}/members`, { token })).body.items;
}

async function roleOf(org: string, token: string, userId: string): Promise<MemberRow | undefined> {
  return (await members(org, token)).find((m) => m.user_id === userId);
}

async function customRole(org: string, token: string, name: string, extra: Record<string, unknown> = {}): Promise<string> {
  return (await server.expect(201, 'POST', `/orgs/${org}/roles`, { token, payload: { name, ...extra } })).body.id;
}

const changeRole = (org: string, token: string, userId: string, payload: unknown) =>
  server.request('PATCH', `/orgs/${org}/members/${userId}`, { token, payload });

const createCluster = (org: string, token: string) =>
  server.request('POST', `/orgs/${org}/clusters`, { token, payload: { name: server.slug('cluster') } });

describe('PATCH /orgs/{org}/members/{user_id}: changing a role', () => {
  it("refuses {role: 'OWNER'} with 409: a second OWNER is a conflict, not a validation error", async () => {
    const { owner, org } = await server.tree();
    const admin = await server.member(owner.token, org, 'ADMIN');
    const response = await changeRole(org, owner.token, admin.id, { role: 'OWNER' });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('CONFLICT');
    expect((await members(org, owner.token)).filter((m) => m.role === 'OWNER').map((m) => m.user_id)).toEqual([owner.id]);
  });

  it('gives a member a system role with {role} and answers the assignment', async () => {
    const { owner, org } = await server.tree();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const response = await changeRole(org, owner.token, viewer.id, { role: 'DEVELOPER' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ user_id: viewer.id, role: 'DEVELOPER', role_id: null, role_name: null });
    expect(await roleOf(org, owner.token, viewer.id)).toMatchObject({ role: 'DEVELOPER', role_id: null, role_name: null });
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

  it("accepts a system role's id (its name, as GET /roles lists it) as role_id", async () => {
    const { owner, org } = await server.tree();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const response = await changeRole(org, owner.token, viewer.id, { role_id: 'DEVOPS' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ user_id: viewer.id, role: 'DEVOPS', role_id: null, role_name: null });
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

  it("refuses role_id 'OWNER' with 409: there is exactly one OWNER", async () => {
    const { owner, org } = await server.tree();
    const admin = await server.member(owner.token, org, 'ADMIN');
    const response = await changeRole(org, owner.token, admin.id, { role_id: 'OWNER' });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('CONFLICT');
    const owners = (await members(org, owner.token)).filter((m) => m.role === 'OWNER');
    expect(owners.map((m) => m.user_id)).toEqual([owner.id]);
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

describe('DELETE /orgs/{org}/members/{user_id}: removing and leaving', () => {
  it('lets an ADMIN remove a member (204); the removed user then gets 404 on the organization', async () => {
    const { owner, org } = await server.tree();
    const admin = await server.member(owner.token, org, 'ADMIN');
    const developer = await server.member(owner.token, org, 'DEVELOPER');
    await server.expect(200, 'GET', `/orgs/${org}/projects/shop`, { token: developer.token });

    const response = await server.request('DELETE', `/orgs/${org}/members/${developer.id}`, { token: admin.token });
    expect(response.status).toBe(204);
    expect(response.raw.body).toBe('');

    await server.expect(404, 'GET', `/orgs/${org}`, { token: developer.token });
    await server.expect(404, 'GET', `/orgs/${org}/projects/shop`, { token: developer.token });
    expect(await roleOf(org, owner.token, developer.id)).toBeUndefined();
  });

  it('lets a member leave by deleting their own user id, without member:manage', async () => {
    const { owner, org } = await server.tree();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    await server.expect(204, 'DELETE', `/orgs/${org}/members/${viewer.id}`, { token: viewer.token });
    await server.expect(404, 'GET', `/orgs/${org}`, { token: viewer.token });
    expect((await members(org, owner.token)).map((m) => m.user_id)).toEqual([owner.id]);
  });

  it('lets a member holding a custom role leave', async () => {
    const { owner, org } = await server.tree();
    const member = await server.member(owner.token, org, 'VIEWER');
    const roleId = await customRole(org, owner.token, 'Leavers');
    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role_id: roleId } });
    await server.expect(204, 'DELETE', `/orgs/${org}/members/${member.id}`, { token: member.token });
    await server.expect(404, 'GET', `/orgs/${org}`, { token: member.token });
  });

  it('refuses to let the OWNER leave or be removed with 409', async () => {
    const { owner, org } = await server.tree();
    const admin = await server.member(owner.token, org, 'ADMIN');
    for (const token of [owner.token, admin.token]) {
      const response = await server.request('DELETE', `/orgs/${org}/members/${owner.id}`, { token });
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe('CONFLICT');
    }
    expect(await roleOf(org, owner.token, owner.id)).toMatchObject({ role: 'OWNER' });
    await server.expect(200, 'GET', `/orgs/${org}`, { token: owner.token });
  });

  it('refuses a VIEWER removing another member with 403 naming member:manage', async () => {
    const { owner, org } = await server.tree();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const developer = await server.member(owner.token, org, 'DEVELOPER');
    const response = await server.request('DELETE', `/orgs/${org}/members/${developer.id}`, { token: viewer.token });
    expect(response.status).toBe(403);
    expect(response.body.error).toMatchObject({ code: 'FORBIDDEN', details: { action: 'member:manage' } });
    await server.expect(200, 'GET', `/orgs/${org}`, { token: developer.token });
  });

  it('answers 404 to removing someone who is not a member', async () => {
    const { owner, org } = await server.tree();
    const stranger = await server.user('stranger');
    for (const userId of [randomUUID(), stranger.id, 'not-a-uuid']) {
      const response = await server.request('DELETE', `/orgs/${org}/members/${userId}`, { token: owner.token });
      expect(response.status, userId).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
  });

  it('answers 404 to a member who has already left and tries to leave again', async () => {
    const { owner, org } = await server.tree();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    await server.expect(204, 'DELETE', `/orgs/${org}/members/${viewer.id}`, { token: viewer.token });
    await server.expect(404, 'DELETE', `/orgs/${org}/members/${viewer.id}`, { token: viewer.token });
  });
});

describe('POST /orgs/{org}/transfer-ownership', () => {
  it('makes the target OWNER and the old owner ADMIN, leaving exactly one OWNER', async () => {
    const { owner, org } = await server.tree();
    const admin = await server.member(owner.token, org, 'ADMIN');
    const response = await server.request('POST', `/orgs/${org}/transfer-ownership`, {
      token: owner.token,
      payload: { user_id: admin.id },
    });
    expect(response.status).toBe(204);

    const list = await members(org, admin.token);
    expect(list.filter((m) => m.role === 'OWNER').map((m) => m.user_id)).toEqual([admin.id]);
    expect(list.find((m) => m.user_id === owner.id)).toMatchObject({ role: 'ADMIN', role_id: null });
  });

  it('takes effect on the next request: only the new OWNER may delete the organization or transfer it again', async () => {
    const { owner, org } = await server.tree();
    const admin = await server.member(owner.token, org, 'ADMIN');
    await server.expect(204, 'POST', `/orgs/${org}/transfer-ownership`, { token: owner.token, payload: { user_id: admin.id } });

    const deleteByOld = await server.request('DELETE', `/orgs/${org}`, { token: owner.token });
    expect(deleteByOld.status).toBe(403);
    expect(deleteByOld.body.error.details.action).toBe('organization:delete');
    const transferByOld = await server.request('POST', `/orgs/${org}/transfer-ownership`, {
      token: owner.token,
      payload: { user_id: owner.id },
    });
    expect(transferByOld.status).toBe(403);

    // The old owner is an ordinary ADMIN now: removable, and able to leave.
    await server.expect(204, 'POST', `/orgs/${org}/transfer-ownership`, { token: admin.token, payload: { user_id: owner.id } });
    expect((await members(org, owner.token)).filter((m) => m.role === 'OWNER').map((m) => m.user_id)).toEqual([owner.id]);
    await server.expect(409, 'DELETE', `/orgs/${org}/members/${owner.id}`, { token: admin.token });
    await server.expect(204, 'DELETE', `/orgs/${org}/members/${admin.id}`, { token: admin.token });
  });

  it('makes a custom-role member OWNER with no custom role left on their membership', async () => {
    const { owner, org } = await server.tree();
    const member = await server.member(owner.token, org, 'VIEWER');
    const roleId = await customRole(org, owner.token, 'Heirs');
    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role_id: roleId } });
    await server.expect(204, 'POST', `/orgs/${org}/transfer-ownership`, { token: owner.token, payload: { user_id: member.id } });
    expect(await roleOf(org, owner.token, member.id)).toMatchObject({ role: 'OWNER', role_id: null, role_name: null });
    await server.expect(204, 'DELETE', `/orgs/${org}/roles/${roleId}`, { token: member.token });
  });

  it('refuses an ADMIN with 403, and ownership stays where it was', async () => {
    const { owner, org } = await server.tree();
    const admin = await server.member(owner.token, org, 'ADMIN');
    for (const target of [admin.id, owner.id]) {
      const response = await server.request('POST', `/orgs/${org}/transfer-ownership`, { token: admin.token, payload: { user_id: target } });
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('FORBIDDEN');
    }
    expect((await members(org, owner.token)).filter((m) => m.role === 'OWNER').map((m) => m.user_id)).toEqual([owner.id]);
  });

  it('refuses a VIEWER with 403 naming member:manage', async () => {
    const { owner, org } = await server.tree();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const response = await server.request('POST', `/orgs/${org}/transfer-ownership`, { token: viewer.token, payload: { user_id: viewer.id } });
    expect(response.status).toBe(403);
    expect(response.body.error).toMatchObject({ code: 'FORBIDDEN', details: { action: 'member:manage' } });
    expect(await roleOf(org, owner.token, viewer.id)).toMatchObject({ role: 'VIEWER' });
  });

  it('refuses a target who is not a member with 400 naming body.user_id', async () => {
    const { owner, org } = await server.tree();
    const stranger = await server.user('stranger');
    for (const userId of [stranger.id, randomUUID()]) {
      const response = await server.request('POST', `/orgs/${org}/transfer-ownership`, { token: owner.token, payload: { user_id: userId } });
      expect(response.status, userId).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.user_id' } });
    }
    expect((await members(org, owner.token)).map((m) => [m.user_id, m.role])).toEqual([[owner.id, 'OWNER']]);
    await server.expect(404, 'GET', `/orgs/${org}`, { token: stranger.token });
  });

  it('refuses a transfer to the OWNER themself, or to a malformed id, with 400 naming body.user_id', async () => {
    const { owner, org } = await server.tree();
    for (const userId of [owner.id, 'not-a-uuid']) {
      const response = await server.request('POST', `/orgs/${org}/transfer-ownership`, { token: owner.token, payload: { user_id: userId } });
      expect(response.status, userId).toBe(400);
      expect(response.body.error.details.field).toBe('body.user_id');
    }
    expect(await roleOf(org, owner.token, owner.id)).toMatchObject({ role: 'OWNER' });
  });
});

describe('custom roles held by members', () => {
  it('never answers 500 when a custom role is assigned while it is being deleted', async () => {
    const { owner, org } = await server.tree();
    const member = await server.member(owner.token, org, 'VIEWER');
    for (let i = 0; i < 10; i++) {
      const roleId = await customRole(org, owner.token, server.slug('race'));
      const [assign, remove] = await Promise.all([
        changeRole(org, owner.token, member.id, { role_id: roleId }),
        server.request('DELETE', `/orgs/${org}/roles/${roleId}`, { token: owner.token }),
      ]);
      expect([assign.status, remove.status]).not.toContain(500);
      await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role: 'VIEWER' } });
    }
  });

  it('refuses to delete a role a member holds with 409, and deletes it once the member has another role', async () => {
    const { owner, org } = await server.tree();
    const member = await server.member(owner.token, org, 'VIEWER');
    const roleId = await customRole(org, owner.token, 'Held');
    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role_id: roleId } });

    const refused = await server.request('DELETE', `/orgs/${org}/roles/${roleId}`, { token: owner.token });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('CONFLICT');
    await server.expect(200, 'GET', `/orgs/${org}/roles/${roleId}`, { token: owner.token });
    expect(await roleOf(org, owner.token, member.id)).toMatchObject({ role: 'CUSTOM', role_id: roleId, role_name: 'Held' });

    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role: 'VIEWER' } });
    await server.expect(204, 'DELETE', `/orgs/${org}/roles/${roleId}`, { token: owner.token });
    await server.expect(404, 'GET', `/orgs/${org}/roles/${roleId}`, { token: owner.token });
  });

  it('deletes a role once its only member has left the organization', async () => {
    const { owner, org } = await server.tree();
    const member = await server.member(owner.token, org, 'VIEWER');
    const roleId = await customRole(org, owner.token, 'Departed');
    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role_id: roleId } });
    await server.expect(409, 'DELETE', `/orgs/${org}/roles/${roleId}`, { token: owner.token });
    await server.expect(204, 'DELETE', `/orgs/${org}/members/${member.id}`, { token: member.token });
    await server.expect(204, 'DELETE', `/orgs/${org}/roles/${roleId}`, { token: owner.token });
  });

  it('shows each custom-role member with their own role_id and role_name, and system-role members with nulls', async () => {
    const { owner, org } = await server.tree();
    const first = await server.member(owner.token, org, 'VIEWER');
    const second = await server.member(owner.token, org, 'VIEWER');
    const plain = await server.member(owner.token, org, 'DEVOPS');
    const alpha = await customRole(org, owner.token, 'Alpha');
    const beta = await customRole(org, owner.token, 'Beta');
    await server.expect(200, 'PATCH', `/orgs/${org}/members/${first.id}`, { token: owner.token, payload: { role_id: alpha } });
    await server.expect(200, 'PATCH', `/orgs/${org}/members/${second.id}`, { token: owner.token, payload: { role_id: beta } });

    const list = await members(org, first.token);
    expect(list.find((m) => m.user_id === first.id)).toMatchObject({ role: 'CUSTOM', role_id: alpha, role_name: 'Alpha' });
    expect(list.find((m) => m.user_id === second.id)).toMatchObject({ role: 'CUSTOM', role_id: beta, role_name: 'Beta' });
    expect(list.find((m) => m.user_id === plain.id)).toMatchObject({ role: 'DEVOPS', role_id: null, role_name: null });
    expect(list.find((m) => m.user_id === owner.id)).toMatchObject({ role: 'OWNER', role_id: null, role_name: null });
  });
});
