import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { server, members, owners, roleOf, customRole, changeRole } from '../../../test/fixtures/member-roles.js';

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
    expect(await owners(org, owner.token)).toEqual([owner.id]);
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
    expect(await owners(org, owner.token)).toEqual([owner.id]);
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
