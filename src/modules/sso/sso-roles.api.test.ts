import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';
import { startIdp } from '../../../test/fixtures/oidc-idp.js';
import { ssoSteps } from '../../../test/fixtures/sso.js';

const dns = new Map<string, string[][]>();
const server = useTestServer({}, { resolveTxt: async (name) => dns.get(name) ?? Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })) });
let idp: Awaited<ReturnType<typeof startIdp>>;
beforeAll(async () => {
  idp = await startIdp();
});
afterAll(() => idp.close());

const { orgWithProvider, signIn } = ssoSteps(server, () => idp);

const roleOf = async (org: string, token: string, email: string) => {
  const members = (await server.expect(200, 'GET', `/orgs/${org}/members`, { token })).body.items as { email: string; role: string; role_name: string | null }[];
  const found = members.find((m) => m.email === email);
  return found ? (found.role === 'CUSTOM' ? found.role_name : found.role) : undefined;
};

/** An organization with a provider asking for groups, a custom role Operators, and mappings. */
async function mappedOrg(defaultRole: string | null = null) {
  const setup = await orgWithProvider({ scopes: ['email', 'groups'] });
  const { owner, org } = setup;
  await server.expect(201, 'POST', `/orgs/${org}/roles`, { token: owner.token, payload: { name: 'Operators' } });
  const put = await server.expect(200, 'PUT', `/orgs/${org}/sso/role-mappings`, {
    token: owner.token,
    payload: {
      claim: 'groups',
      default_role: defaultRole,
      mappings: [
        { value: 'readers', role: 'VIEWER' },
        { value: 'platform', role: 'DEVOPS' },
        { value: 'operators', role: 'Operators' },
      ],
    },
  });
  return { ...setup, mappings: put.body };
}

describe('SSO role mappings', () => {
  it('stores and answers the mappings, audited; refuses OWNER, an unknown role and a repeated value naming the field', async () => {
    const { owner, org, mappings } = await mappedOrg('MEMBER');
    expect(mappings).toEqual({
      claim: 'groups',
      default_role: 'MEMBER',
      mappings: [
        { value: 'operators', role: 'Operators' },
        { value: 'platform', role: 'DEVOPS' },
        { value: 'readers', role: 'VIEWER' },
      ],
    });
    expect((await server.expect(200, 'GET', `/orgs/${org}/sso/role-mappings`, { token: owner.token })).body).toEqual(mappings);
    const audit = await server.expect(200, 'GET', `/orgs/${org}/audit-events`, { token: owner.token });
    expect(audit.body.items.find((e: { target_type: string }) => e.target_type === 'sso_role_mappings')).toMatchObject({
      event_type: 'UPDATE',
      details: { after: expect.arrayContaining(['platform → DEVOPS', 'operators → custom role Operators', '(default) → MEMBER']) },
    });
    const put = (payload: Record<string, unknown>) => server.request('PUT', `/orgs/${org}/sso/role-mappings`, { token: owner.token, payload: { claim: 'groups', mappings: [], ...payload } });
    for (const [payload, field] of [
      [{ mappings: [{ value: 'x', role: 'OWNER' }] }, 'body.mappings[0].role'],
      [{ mappings: [{ value: 'x', role: 'VIEWER' }, { value: 'y', role: 'No Such Role' }] }, 'body.mappings[1].role'],
      [{ default_role: 'OWNER' }, 'body.default_role'],
      [{ mappings: [{ value: 'x', role: 'VIEWER' }, { value: 'x', role: 'DEVOPS' }] }, 'body.mappings[1].value'],
      [{ claim: '' }, 'body.claim'],
    ] as const) {
      const answer = await put(payload);
      expect(answer.status, JSON.stringify(payload)).toBe(400);
      expect(answer.body.error.details.field).toBe(field);
    }
    // The refused PUTs changed nothing.
    expect((await server.expect(200, 'GET', `/orgs/${org}/sso/role-mappings`, { token: owner.token })).body).toEqual(mappings);
    await server.expect(204, 'DELETE', `/orgs/${org}/sso/role-mappings`, { token: owner.token });
    expect((await server.request('GET', `/orgs/${org}/sso/role-mappings`, { token: owner.token })).status).toBe(404);
  });

  it('re-evaluates the role at every sign-in as the groups change: highest wins, custom roles too, and no group removes the membership', async () => {
    const { owner, org } = await mappedOrg();
    const member = await server.member(owner.token, org, 'DEVELOPER');
    idp.addAccount('groups-1', member.email, true, ['readers', 'platform', 'unmapped']);

    expect((await signIn(org, 'groups-1')).answer.status).toBe(302);
    expect(await roleOf(org, owner.token, member.email)).toBe('DEVOPS');

    idp.setGroups('groups-1', ['readers']);
    expect((await signIn(org, 'groups-1')).answer.status).toBe(302);
    expect(await roleOf(org, owner.token, member.email)).toBe('VIEWER');

    idp.setGroups('groups-1', ['operators', 'readers']);
    expect((await signIn(org, 'groups-1')).answer.status).toBe(302);
    // VIEWER ranks above a custom role: a custom role is a narrowed grant (README, role mappings).
    expect(await roleOf(org, owner.token, member.email)).toBe('VIEWER');
    idp.setGroups('groups-1', ['operators']);
    expect((await signIn(org, 'groups-1')).answer.status).toBe(302);
    expect(await roleOf(org, owner.token, member.email)).toBe('Operators');

    idp.setGroups('groups-1', ['unmapped']);
    const removed = await signIn(org, 'groups-1');
    expect(removed.answer.status).toBe(403);
    expect(removed.answer.body.error.message).toMatch(/is in no group that this organization maps to a role \(claim "groups"\)/);
    expect(removed.session).toBeUndefined();
    expect(await roleOf(org, owner.token, member.email)).toBeUndefined();

    const audit = await server.expect(200, 'GET', `/orgs/${org}/audit-events`, { token: owner.token });
    const changes = audit.body.items.filter((e: { target_type: string }) => e.target_type === 'member').map((e: { change: string }) => e.change);
    expect(changes).toEqual(
      expect.arrayContaining([
        `Changed the role of ${member.email} to DEVOPS from the "groups" claim of SSO provider Test IdP`,
        `Changed the role of ${member.email} to custom role Operators from the "groups" claim of SSO provider Test IdP`,
        `Removed ${member.email}: in no mapped group at sign-in with SSO provider Test IdP`,
      ]),
    );
  });

  it('gives the default role to a member in no mapped group, and never demotes or removes the OWNER', async () => {
    const { owner, org } = await mappedOrg('MEMBER');
    const member = await server.member(owner.token, org, 'ADMIN');
    idp.addAccount('groups-2', member.email, true, []);
    expect((await signIn(org, 'groups-2')).answer.status).toBe(302);
    expect(await roleOf(org, owner.token, member.email)).toBe('MEMBER');

    const ownerEmail = (await server.expect(200, 'GET', '/me', { token: owner.token })).body.user.email;
    idp.addAccount('groups-owner', ownerEmail, true, ['readers']);
    expect((await signIn(org, 'groups-owner')).answer.status).toBe(302);
    expect(await roleOf(org, owner.token, ownerEmail)).toBe('OWNER');

    await server.expect(200, 'PUT', `/orgs/${org}/sso/role-mappings`, { token: owner.token, payload: { claim: 'groups', mappings: [{ value: 'platform', role: 'DEVOPS' }] } });
    idp.setGroups('groups-owner', []);
    expect((await signIn(org, 'groups-owner')).answer.status).toBe(302);
    expect(await roleOf(org, owner.token, ownerEmail)).toBe('OWNER');
  });

  it('provisions a new person of a verified domain with the role their groups map to', async () => {
    const { owner, org } = await mappedOrg();
    const domain = `roles-${Date.now().toString(36)}.example.test`;
    const added = await server.expect(201, 'POST', `/orgs/${org}/sso/domains`, { token: owner.token, payload: { domain } });
    dns.set(added.body.txt_record.name, [[added.body.txt_record.value]]);
    await server.expect(200, 'POST', `/orgs/${org}/sso/domains/${added.body.id}/verify`, { token: owner.token });
    idp.addAccount('groups-3', `platform.person@${domain}`, true, ['platform']);
    expect((await signIn(org, 'groups-3')).answer.status).toBe(302);
    expect(await roleOf(org, owner.token, `platform.person@${domain}`)).toBe('DEVOPS');
    // In no mapped group and no default: not provisioned at all.
    idp.addAccount('groups-4', `nobody@${domain}`, true, ['unmapped']);
    expect((await signIn(org, 'groups-4')).answer.status).toBe(403);
    expect(await roleOf(org, owner.token, `nobody@${domain}`)).toBeUndefined();
  });
});

describe('enforced single sign-on', () => {
  it('refuses members\' password sessions in the organization, naming its provider; SSO sessions, the OWNER and API tokens still work', async () => {
    const { owner, org } = await orgWithProvider();
    const member = await server.member(owner.token, org, 'DEVELOPER');
    const token = await server.mint(owner.token, org, { preset: 'read-only' });
    const enforced = await server.expect(200, 'PATCH', `/orgs/${org}/settings`, { token: owner.token, payload: { enforce_sso: true } });
    expect(enforced.body.enforce_sso).toBe(true);

    const refused = await server.request('GET', `/orgs/${org}/projects`, { token: member.token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe(`Organization ${org} requires single sign-on: sign in with Test IdP (GET /api/v1/auth/sso/${org}/start); a password session cannot act in it`);
    // A fresh password login is refused alike: it is the session's origin that counts.
    const relogin = await server.expect(200, 'POST', '/auth/login', { payload: { email: member.email, password: 'correct horse battery staple' } });
    expect((await server.request('GET', `/orgs/${org}`, { token: relogin.body.token })).status).toBe(403);

    idp.addAccount('enforce-1', member.email);
    const sso = await signIn(org, 'enforce-1');
    expect(sso.answer.status).toBe(302);
    await server.expect(200, 'GET', `/orgs/${org}/projects`, { token: sso.session! });
    await server.expect(200, 'GET', `/orgs/${org}/projects`, { token: owner.token });
    await server.expect(200, 'GET', `/orgs/${org}/projects`, { token: token.token });

    // The member's password session still works in an organization that does not enforce SSO.
    const { owner: otherOwner, org: other } = await server.org('other');
    await server.join(otherOwner.token, other, member, 'VIEWER');
    await server.expect(200, 'GET', `/orgs/${other}/projects`, { token: member.token });
    // …and an SSO session of this organization is no SSO session of another that enforces it.
    const third = await orgWithProvider();
    await server.join(third.owner.token, third.org, { token: sso.session!, email: member.email }, 'VIEWER');
    await server.expect(200, 'PATCH', `/orgs/${third.org}/settings`, { token: third.owner.token, payload: { enforce_sso: true } });
    expect((await server.request('GET', `/orgs/${third.org}/projects`, { token: sso.session! })).status).toBe(403);

    await server.expect(200, 'PATCH', `/orgs/${org}/settings`, { token: owner.token, payload: { enforce_sso: false } });
    await server.expect(200, 'GET', `/orgs/${org}/projects`, { token: member.token });
    const audit = await server.expect(200, 'GET', `/orgs/${org}/audit-events`, { token: owner.token });
    expect(audit.body.items.find((e: { target_type: string; event_type: string }) => e.target_type === 'organization' && e.event_type === 'UPDATE')).toMatchObject({ details: { before: { enforce_sso: true }, after: { enforce_sso: false } } });
  });

  it('cannot be turned on without a provider, nor the last provider removed while it is on', async () => {
    const { owner, org } = await server.org('plain');
    const refused = await server.request('PATCH', `/orgs/${org}/settings`, { token: owner.token, payload: { enforce_sso: true } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.details.field).toBe('enforce_sso');
    expect((await server.request('PATCH', `/orgs/${org}/settings`, { token: owner.token, payload: {} })).status).toBe(400);

    const withProvider = await orgWithProvider();
    await server.expect(200, 'PATCH', `/orgs/${withProvider.org}/settings`, { token: withProvider.owner.token, payload: { enforce_sso: true } });
    const last = await server.request('DELETE', `/orgs/${withProvider.org}/sso/providers/${withProvider.provider.id}`, { token: withProvider.owner.token });
    expect(last.status).toBe(409);
    expect(last.body.error.message).toContain('turn enforce_sso off');
    await server.expect(200, 'GET', `/orgs/${withProvider.org}/sso/providers/${withProvider.provider.id}`, { token: withProvider.owner.token });
  });
});
