import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';

const server = useTestServer();

/** The members tests read the organization's name back. */
const ACME = { name: 'Acme Inc' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function invite(token: string, org: string, email: string, role = 'DEVELOPER') {
  return (await server.expect(201, 'POST', `/orgs/${org}/invitations`, { token, payload: { email, role } })).body as {
    id: string;
    token: string;
  };
}

describe('members list', () => {
  it('lists the creator as the only member, with the OWNER role', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const list = await server.expect(200, 'GET', `/orgs/${org}/members`, { token: owner.token });
    expect(list.body).toEqual({
      items: [
        { user_id: owner.id, email: owner.email, name: 'owner', role: 'OWNER', role_id: null, role_name: null, joined_at: expect.any(String) },
      ],
      next_cursor: null,
    });
  });

  it('pages through members with limit and next_cursor, each once, in email order', async () => {
    const { owner, org } = await server.org('owner', ACME);
    // Distinct first letters keep the expected order the same under any database collation.
    const others = [await server.user('dan'), await server.user('amy'), await server.user('cat'), await server.user('bob')];
    for (const user of others) await server.join(owner.token, org, user, 'VIEWER');

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const page = await server.expect(200, 'GET', `/orgs/${org}/members${query}`, { token: owner.token });
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((m: { email: string }) => m.email));
      cursor = page.body.next_cursor;
    } while (cursor !== null && seen.length <= 5);

    expect(seen).toEqual([owner.email, ...others.map((u) => u.email)].sort());
  });
});

describe('invitations: create and list', () => {
  it('creates an invitation with 201 and returns the one-time token once', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const email = server.email('invitee');
    const response = await server.expect(201, 'POST', `/orgs/${org}/invitations`, {
      token: owner.token,
      payload: { email, role: 'DEVELOPER' },
    });
    expect(response.body).toEqual({
      id: expect.stringMatching(UUID),
      email,
      role: 'DEVELOPER',
      expires_at: expect.any(String),
      created_at: expect.any(String),
      token: expect.stringMatching(/^cfi_/),
    });
    expect(new Date(response.body.expires_at).getTime()).toBeGreaterThan(new Date(response.body.created_at).getTime());
  });

  it('lists pending invitations without their token', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const email = server.email('invitee');
    const created = await invite(owner.token, org, email, 'VIEWER');
    const list = await server.expect(200, 'GET', `/orgs/${org}/invitations`, { token: owner.token });
    expect(list.body.items).toEqual([
      { id: created.id, email, role: 'VIEWER', expires_at: expect.any(String), created_at: expect.any(String) },
    ]);
    expect(list.raw.body).not.toContain(created.token);
    expect(list.body.items[0]).not.toHaveProperty('token');
  });

  it('gives every invitation its own token', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const first = await invite(owner.token, org, server.email());
    const second = await invite(owner.token, org, server.email());
    expect(first.token).not.toBe(second.token);
  });

  it('normalises the invited email to lower case', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const email = server.email('Mixed');
    const response = await server.expect(201, 'POST', `/orgs/${org}/invitations`, {
      token: owner.token,
      payload: { email: email.toUpperCase(), role: 'VIEWER' },
    });
    expect(response.body.email).toBe(email.toLowerCase());
  });

  it('shows no invitations of another organization', async () => {
    const a = await server.org('owner', ACME);
    const b = await server.org('owner', ACME);
    await invite(a.owner.token, a.org, server.email());
    const list = await server.expect(200, 'GET', `/orgs/${b.org}/invitations`, { token: b.owner.token });
    expect(list.body.items).toEqual([]);
  });

  it('refuses the OWNER role with 400 naming body.role', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const response = await server.request('POST', `/orgs/${org}/invitations`, {
      token: owner.token,
      payload: { email: server.email(), role: 'OWNER' },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.role' } });
    const list = await server.expect(200, 'GET', `/orgs/${org}/invitations`, { token: owner.token });
    expect(list.body.items).toEqual([]);
  });

  it('refuses an unknown or lower-case role with 400 naming body.role', async () => {
    const { owner, org } = await server.org('owner', ACME);
    for (const role of ['SUPERUSER', 'viewer', '']) {
      const response = await server.request('POST', `/orgs/${org}/invitations`, { token: owner.token, payload: { email: server.email(), role } });
      expect(response.status, role).toBe(400);
      expect(response.body.error.details.field).toBe('body.role');
    }
  });

  it('refuses an invitation without a role with 400 naming body.role', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const response = await server.request('POST', `/orgs/${org}/invitations`, { token: owner.token, payload: { email: server.email() } });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe('body.role');
  });

  it('refuses a malformed email with 400 naming body.email', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const response = await server.request('POST', `/orgs/${org}/invitations`, {
      token: owner.token,
      payload: { email: 'not-an-email', role: 'VIEWER' },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.email' } });
  });

  it('refuses to invite an existing member with 409', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const member = await server.user('member');
    await server.join(owner.token, org, member, 'DEVELOPER');
    for (const email of [member.email, member.email.toUpperCase(), owner.email]) {
      const response = await server.request('POST', `/orgs/${org}/invitations`, { token: owner.token, payload: { email, role: 'VIEWER' } });
      expect(response.status, email).toBe(409);
      expect(response.body.error).toMatchObject({ code: 'CONFLICT', details: { field: 'email' } });
    }
  });
});

describe('invitations: withdraw', () => {
  it('withdraws a pending invitation with 204: it leaves the list and its token no longer works', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const invitee = await server.user('invitee');
    const invitation = await invite(owner.token, org, invitee.email);
    await server.expect(204, 'DELETE', `/orgs/${org}/invitations/${invitation.id}`, { token: owner.token });
    const list = await server.expect(200, 'GET', `/orgs/${org}/invitations`, { token: owner.token });
    expect(list.body.items).toEqual([]);
    const accept = await server.request('POST', `/invitations/${invitation.token}/accept`, { token: invitee.token });
    expect(accept.status).toBe(404);
    await server.expect(404, 'GET', `/orgs/${org}`, { token: invitee.token });
  });

  it('answers 404 to withdrawing an invitation twice or one that does not exist', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const invitation = await invite(owner.token, org, server.email());
    await server.expect(204, 'DELETE', `/orgs/${org}/invitations/${invitation.id}`, { token: owner.token });
    const again = await server.request('DELETE', `/orgs/${org}/invitations/${invitation.id}`, { token: owner.token });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('NOT_FOUND');
    const unknown = await server.request('DELETE', `/orgs/${org}/invitations/${randomUUID()}`, { token: owner.token });
    expect(unknown.status).toBe(404);
  });

  it('answers 404 to withdrawing an invitation that was already accepted', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const invitee = await server.user('invitee');
    const invitation = await invite(owner.token, org, invitee.email);
    await server.expect(200, 'POST', `/invitations/${invitation.token}/accept`, { token: invitee.token });
    await server.expect(404, 'DELETE', `/orgs/${org}/invitations/${invitation.id}`, { token: owner.token });
    await server.expect(200, 'GET', `/orgs/${org}`, { token: invitee.token });
  });

  it("cannot withdraw another organization's invitation through one's own", async () => {
    const a = await server.org('owner', ACME);
    const b = await server.org('owner', ACME);
    const invitation = await invite(a.owner.token, a.org, server.email());
    await server.expect(404, 'DELETE', `/orgs/${b.org}/invitations/${invitation.id}`, { token: b.owner.token });
    const list = await server.expect(200, 'GET', `/orgs/${a.org}/invitations`, { token: a.owner.token });
    expect(list.body.items.map((i: { id: string }) => i.id)).toEqual([invitation.id]);
  });
});

describe('invitations: accept', () => {
  it("joins the invited email's signed-in user to the organization with the invited role", async () => {
    const { owner, org } = await server.org('owner', ACME);
    const invitee = await server.user('invitee');
    const invitation = await invite(owner.token, org, invitee.email, 'AUDITOR');
    const accepted = await server.expect(200, 'POST', `/invitations/${invitation.token}/accept`, { token: invitee.token });
    expect(accepted.body).toEqual({
      organization: { id: expect.stringMatching(UUID), slug: org, name: 'Acme Inc' },
      role: 'AUDITOR',
    });

    const members = await server.expect(200, 'GET', `/orgs/${org}/members`, { token: owner.token });
    expect(members.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ user_id: owner.id, role: 'OWNER' }),
        expect.objectContaining({ user_id: invitee.id, email: invitee.email, name: 'invitee', role: 'AUDITOR' }),
      ]),
    );
    expect(members.body.items).toHaveLength(2);
    const pending = await server.expect(200, 'GET', `/orgs/${org}/invitations`, { token: owner.token });
    expect(pending.body.items).toEqual([]);
  });

  it('shows the organization to the invited user in GET /orgs, GET /me and GET /orgs/{org} once accepted', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const invitee = await server.user('invitee');
    const invitation = await invite(owner.token, org, invitee.email, 'VIEWER');

    const before = await server.expect(200, 'GET', '/orgs', { token: invitee.token });
    expect(before.body.items).toEqual([]);
    await server.expect(404, 'GET', `/orgs/${org}`, { token: invitee.token });

    await server.expect(200, 'POST', `/invitations/${invitation.token}/accept`, { token: invitee.token });

    const orgs = await server.expect(200, 'GET', '/orgs', { token: invitee.token });
    expect(orgs.body.items).toEqual([expect.objectContaining({ slug: org, name: 'Acme Inc', role: 'VIEWER' })]);
    const me = await server.expect(200, 'GET', '/me', { token: invitee.token });
    expect(me.body.organizations).toEqual([expect.objectContaining({ slug: org, role: 'VIEWER' })]);
    const one = await server.expect(200, 'GET', `/orgs/${org}`, { token: invitee.token });
    expect(one.body).toMatchObject({ slug: org, role: 'VIEWER' });
  });

  it('accepts an invitation sent to a differently-cased email', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const invitee = await server.user('invitee');
    const invitation = await invite(owner.token, org, invitee.email.toUpperCase(), 'VIEWER');
    await server.expect(200, 'POST', `/invitations/${invitation.token}/accept`, { token: invitee.token });
  });

  it('refuses an invitation accepted by another signed-in user with 403, and it stays usable by its addressee', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const invitee = await server.user('invitee');
    const other = await server.user('other');
    const invitation = await invite(owner.token, org, invitee.email);

    const refused = await server.request('POST', `/invitations/${invitation.token}/accept`, { token: other.token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('FORBIDDEN');
    await server.expect(404, 'GET', `/orgs/${org}`, { token: other.token });
    const pending = await server.expect(200, 'GET', `/orgs/${org}/invitations`, { token: owner.token });
    expect(pending.body.items.map((i: { id: string }) => i.id)).toEqual([invitation.id]);

    await server.expect(200, 'POST', `/invitations/${invitation.token}/accept`, { token: invitee.token });
  });

  it('answers 404 to a token that was already accepted', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const invitee = await server.user('invitee');
    const invitation = await invite(owner.token, org, invitee.email);
    await server.expect(200, 'POST', `/invitations/${invitation.token}/accept`, { token: invitee.token });
    const again = await server.request('POST', `/invitations/${invitation.token}/accept`, { token: invitee.token });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('NOT_FOUND');
    const members = await server.expect(200, 'GET', `/orgs/${org}/members`, { token: owner.token });
    expect(members.body.items).toHaveLength(2);
  });

  it('answers 404 to an unknown token', async () => {
    const user = await server.user('user');
    for (const token of ['cfi_thisTokenWasNeverIssued0000000000000000', 'no-prefix-token', 'x']) {
      const response = await server.request('POST', `/invitations/${token}/accept`, { token: user.token });
      expect(response.status, token).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
  });

  it('answers 404 to an expired invitation and leaves it out of the pending list', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const invitee = await server.user('invitee');
    const invitation = await invite(owner.token, org, invitee.email);
    await server.db
      .updateTable('invitations')
      .set({ expires_at: new Date(Date.now() - 60_000) })
      .where('id', '=', invitation.id)
      .execute();
    const pending = await server.expect(200, 'GET', `/orgs/${org}/invitations`, { token: owner.token });
    expect(pending.body.items).toEqual([]);
    await server.expect(404, 'POST', `/invitations/${invitation.token}/accept`, { token: invitee.token });
  });

  it('refuses a second invitation to someone who has meanwhile joined with 409', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const invitee = await server.user('invitee');
    const first = await invite(owner.token, org, invitee.email, 'VIEWER');
    const second = await invite(owner.token, org, invitee.email, 'ADMIN');
    await server.expect(200, 'POST', `/invitations/${first.token}/accept`, { token: invitee.token });
    const response = await server.request('POST', `/invitations/${second.token}/accept`, { token: invitee.token });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('CONFLICT');
    const members = await server.expect(200, 'GET', `/orgs/${org}/members`, { token: owner.token });
    expect(members.body.items.find((m: { user_id: string }) => m.user_id === invitee.id).role).toBe('VIEWER');
  });

  it('never makes a second OWNER through an invitation', async () => {
    const { owner, org } = await server.org('owner', ACME);
    const invitee = await server.user('invitee');
    const invitation = await invite(owner.token, org, invitee.email, 'ADMIN');
    await server.expect(200, 'POST', `/invitations/${invitation.token}/accept`, { token: invitee.token });
    const members = await server.expect(200, 'GET', `/orgs/${org}/members`, { token: owner.token });
    expect(members.body.items.filter((m: { role: string }) => m.role === 'OWNER')).toEqual([
      expect.objectContaining({ user_id: owner.id }),
    ]);
  });
});
