import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';
import { startIdp } from '../../../test/fixtures/oidc-idp.js';
import { ssoSteps } from '../../../test/fixtures/sso.js';

const server = useTestServer();
let idp: Awaited<ReturnType<typeof startIdp>>;
beforeAll(async () => {
  idp = await startIdp();
});
afterAll(() => idp.close());

const { orgWithProvider, signIn } = ssoSteps(server, () => idp);

type Item = { user: { id: string; email: string }; outcome: string; before: { role: string } | null; after: { role: string } | null; reason?: string };

describe('POST /orgs/{org}/sso/sync: groups re-evaluated now, against a real oidc-provider', () => {
  it('applies group changes and a deletion at the IdP to every SSO member at once, never touching the OWNER, and audits each change', async () => {
    const { owner, org } = await orgWithProvider({ scopes: ['email', 'profile', 'groups'] });
    await server.expect(200, 'PUT', `/orgs/${org}/sso/role-mappings`, {
      token: owner.token,
      payload: { claim: 'groups', mappings: [{ value: 'platform', role: 'DEVOPS' }, { value: 'dev', role: 'DEVELOPER' }] },
    });
    const people = {
      leaver: await server.member(owner.token, org, 'VIEWER'),
      mover: await server.member(owner.token, org, 'VIEWER'),
      deleted: await server.member(owner.token, org, 'VIEWER'),
      stayer: await server.member(owner.token, org, 'VIEWER'),
    };
    idp.addAccount('sync-leaver', people.leaver.email, true, ['dev']);
    idp.addAccount('sync-mover', people.mover.email, true, ['dev']);
    idp.addAccount('sync-deleted', people.deleted.email, true, ['platform']);
    idp.addAccount('sync-stayer', people.stayer.email, true, ['platform', 'dev']);
    idp.addAccount('sync-owner', owner.email, true, []);
    for (const account of ['sync-leaver', 'sync-mover', 'sync-deleted', 'sync-stayer', 'sync-owner']) {
      expect((await signIn(org, account)).session, account).toBeTruthy();
    }
    // A password-only member was never seen through SSO: sync leaves them out.
    const passwordOnly = await server.member(owner.token, org, 'VIEWER');

    // The refresh tokens are kept sealed (the envelope's version byte, nonce and tag around them).
    const stored = await server.db.selectFrom('sso_identities').selectAll().execute();
    const ours = stored.filter((row) => Object.values(people).some((p) => p.id === row.user_id));
    expect(ours).toHaveLength(4);
    for (const row of ours) expect(row.refresh_token_sealed!.length).toBeGreaterThan(28);

    // At the IdP: one leaves every mapped group, one moves to platform, one is deleted.
    idp.setGroups('sync-leaver', ['marketing']);
    idp.setGroups('sync-mover', ['platform']);
    idp.removeAccount('sync-deleted');

    const developer = await server.member(owner.token, org, 'DEVELOPER');
    const refused = await server.request('POST', `/orgs/${org}/sso/sync`, { token: developer.token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.details.action).toBe('organization:setup');
    expect((await server.request('POST', `/orgs/${org}/sso/sync`, { token: (await server.user('stranger')).token })).status).toBe(404);

    const synced = await server.expect(200, 'POST', `/orgs/${org}/sso/sync`, { token: owner.token });
    const byEmail = new Map((synced.body.items as Item[]).map((item) => [item.user.email, item]));
    expect(byEmail.has(passwordOnly.email)).toBe(false);
    expect(byEmail.get(people.leaver.email)).toMatchObject({ outcome: 'removed', before: { role: 'DEVELOPER' }, after: null, reason: expect.stringContaining('in no group that maps to a role') });
    expect(byEmail.get(people.mover.email)).toMatchObject({ outcome: 'role_changed', before: { role: 'DEVELOPER' }, after: { role: 'DEVOPS' } });
    expect(byEmail.get(people.deleted.email)).toMatchObject({ outcome: 'removed', before: { role: 'DEVOPS' }, after: null, reason: expect.stringMatching(/refused to refresh their sign-in \(invalid_grant/) });
    expect(byEmail.get(people.stayer.email)).toMatchObject({ outcome: 'unchanged', before: { role: 'DEVOPS' }, after: { role: 'DEVOPS' } });
    expect(byEmail.get(owner.email)).toMatchObject({ outcome: 'unchanged', before: { role: 'OWNER' }, reason: 'The OWNER is never changed by SSO' });
    expect(synced.body.changed).toBe(3);

    const members = (await server.expect(200, 'GET', `/orgs/${org}/members`, { token: owner.token })).body.items as { email: string; role: string }[];
    const roleOf = (email: string) => members.find((m) => m.email === email)?.role;
    expect(roleOf(people.leaver.email)).toBeUndefined();
    expect(roleOf(people.deleted.email)).toBeUndefined();
    expect(roleOf(people.mover.email)).toBe('DEVOPS');
    expect(roleOf(owner.email)).toBe('OWNER');

    const audit = await server.expect(200, 'GET', `/orgs/${org}/audit-events?limit=100`, { token: owner.token });
    const changes = (audit.body.items as { change: string; actor: { id: string } }[]).filter((e) => e.change.includes('(SSO sync'));
    expect(changes.map((e) => e.change)).toHaveLength(3);
    expect(changes.map((e) => e.change)).toEqual(
      expect.arrayContaining([
        `Changed the role of ${people.mover.email} to DEVOPS from the "groups" claim of SSO provider Test IdP (SSO sync)`,
        `Removed ${people.leaver.email}: in no group that maps to a role (claim "groups") and no default role (SSO sync with provider Test IdP)`,
        expect.stringMatching(new RegExp(`^Removed ${people.deleted.email.replace(/[.+]/g, '\\$&')}: Test IdP refused to refresh their sign-in \\(invalid_grant`)),
      ]),
    );
    expect(changes.every((e) => e.actor.id === owner.id)).toBe(true);

    // A second sync finds nothing more to do: the refresh tokens still work.
    const again = await server.expect(200, 'POST', `/orgs/${org}/sso/sync`, { token: owner.token });
    expect(again.body.changed).toBe(0);
    expect((again.body.items as Item[]).map((item) => item.user.email).sort()).toEqual([owner.email, people.mover.email, people.stayer.email].sort());
   }, 120_000);

  it('changes nothing for a member whose IdP cannot be reached: outcome failed, membership kept', async () => {
    const gone = await startIdp();
    try {
      const steps = ssoSteps(server, () => gone);
      const { owner, org } = await steps.orgWithProvider({ scopes: ['email', 'profile', 'groups'] });
      await server.expect(200, 'PUT', `/orgs/${org}/sso/role-mappings`, { token: owner.token, payload: { claim: 'groups', mappings: [{ value: 'dev', role: 'DEVELOPER' }] } });
      const member = await server.member(owner.token, org, 'VIEWER');
      gone.addAccount('outage-1', member.email, true, ['dev']);
      expect((await steps.signIn(org, 'outage-1')).session).toBeTruthy();
      await gone.close();
      const synced = await server.expect(200, 'POST', `/orgs/${org}/sso/sync`, { token: owner.token });
      expect(synced.body.changed).toBe(0);
      expect(synced.body.items).toEqual([
        expect.objectContaining({ user: expect.objectContaining({ email: member.email }), outcome: 'failed', before: null, after: null, reason: expect.stringContaining('could not refresh the sign-in') }),
      ]);
      const members = (await server.expect(200, 'GET', `/orgs/${org}/members`, { token: owner.token })).body.items as { email: string; role: string }[];
      expect(members.find((m) => m.email === member.email)?.role).toBe('DEVELOPER');
    } finally {
      await gone.close();
    }
   }, 60_000);

  it('answers 422 for an organization without a provider', async () => {
    const { owner, org } = await server.org('owner');
    const answer = await server.request('POST', `/orgs/${org}/sso/sync`, { token: owner.token });
    expect(answer.status).toBe(422);
    expect(answer.body.error.message).toMatch(/no SSO provider/);
  });
});
