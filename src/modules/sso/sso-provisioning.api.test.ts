import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';
import { startIdp } from '../../../test/fixtures/oidc-idp.js';
import { ssoSteps } from '../../../test/fixtures/sso.js';

/** DNS as the test publishes it: TXT records by name; any other name does not exist. */
const dns = new Map<string, string[][]>();
const resolveTxt = async (name: string) => {
  const records = dns.get(name);
  if (!records) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  return records;
};

const server = useTestServer({}, { resolveTxt });
let idp: Awaited<ReturnType<typeof startIdp>>;
beforeAll(async () => {
  idp = await startIdp();
});
afterAll(() => idp.close());

const { orgWithProvider, signIn } = ssoSteps(server, () => idp);
let domains = 0;
const newDomain = () => `corp${++domains}-${Date.now().toString(36)}.example.test`;

/** An organization with a provider and `domain` verified through the fake DNS. */
async function orgWithDomain(domain = newDomain()) {
  const setup = await orgWithProvider({ scopes: ['email', 'profile', 'groups'] });
  const added = await server.expect(201, 'POST', `/orgs/${setup.org}/sso/domains`, { token: setup.owner.token, payload: { domain } });
  dns.set(added.body.txt_record.name, [[added.body.txt_record.value]]);
  await server.expect(200, 'POST', `/orgs/${setup.org}/sso/domains/${added.body.id}/verify`, { token: setup.owner.token });
  return { ...setup, domain };
}

const membersOf = async (org: string, token: string) =>
  (await server.expect(200, 'GET', `/orgs/${org}/members`, { token })).body.items as { email: string; role: string; role_id?: string | null; role_name?: string | null }[];

describe('SSO domains', () => {
  it('answers a TXT record to publish, verifies only once DNS holds it, and audits each step', async () => {
    const { owner, org } = await orgWithProvider();
    const domain = newDomain();
    const added = await server.expect(201, 'POST', `/orgs/${org}/sso/domains`, { token: owner.token, payload: { domain: domain.toUpperCase() } });
    expect(added.body).toMatchObject({ domain, verified: false, verified_at: null, txt_record: { name: `_coffer-verification.${domain}` } });
    expect(added.body.txt_record.value).toMatch(/^coffer-verification=[A-Za-z0-9_-]{43}$/);

    const missing = await server.request('POST', `/orgs/${org}/sso/domains/${added.body.id}/verify`, { token: owner.token });
    expect(missing.status).toBe(422);
    expect(missing.body.error.message).toContain(`No TXT record _coffer-verification.${domain}`);
    dns.set(added.body.txt_record.name, [['some-other=value'], ['coffer-verification=', added.body.txt_record.value.slice('coffer-verification='.length)]]);
    const verified = await server.expect(200, 'POST', `/orgs/${org}/sso/domains/${added.body.id}/verify`, { token: owner.token });
    expect(verified.body).toMatchObject({ verified: true, verified_at: expect.any(String) });

    const list = await server.expect(200, 'GET', `/orgs/${org}/sso/domains`, { token: owner.token });
    expect(list.body.items.map((d: { domain: string }) => d.domain)).toEqual([domain]);
    const audit = await server.expect(200, 'GET', `/orgs/${org}/audit-events`, { token: owner.token });
    const changes = audit.body.items.filter((e: { target_type: string }) => e.target_type === 'sso_domain').map((e: { change: string }) => e.change);
    expect(changes).toEqual(expect.arrayContaining([`Added SSO domain ${domain} (unverified)`, `Verified SSO domain ${domain} by DNS`]));

    // Another organization may claim it, but not verify it while this one holds it.
    const other = await orgWithProvider();
    const claim = await server.expect(201, 'POST', `/orgs/${other.org}/sso/domains`, { token: other.owner.token, payload: { domain } });
    dns.set(claim.body.txt_record.name, [[claim.body.txt_record.value]]);
    const taken = await server.request('POST', `/orgs/${other.org}/sso/domains/${claim.body.id}/verify`, { token: other.owner.token });
    expect(taken.status).toBe(409);
    expect(taken.body.error.message).toContain('already verified by another organization');
    await server.expectDeleted(`/orgs/${org}/sso/domains/${added.body.id}`, owner.token);
  });

  it('refuses a malformed or duplicate domain naming the field, and needs organization:setup', async () => {
    const { owner, org } = await orgWithProvider();
    for (const domain of ['not a domain', 'localhost', 'a..b.test', '-x.test', '']) {
      const answer = await server.request('POST', `/orgs/${org}/sso/domains`, { token: owner.token, payload: { domain } });
      expect(answer.status, domain).toBe(400);
      expect(answer.body.error.details.field).toBe('body.domain');
    }
    const domain = newDomain();
    await server.expect(201, 'POST', `/orgs/${org}/sso/domains`, { token: owner.token, payload: { domain } });
    const duplicate = await server.request('POST', `/orgs/${org}/sso/domains`, { token: owner.token, payload: { domain } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.details.field).toBe('domain');
    const developer = await server.member(owner.token, org, 'DEVELOPER');
    expect((await server.request('POST', `/orgs/${org}/sso/domains`, { token: developer.token, payload: { domain: newDomain() } })).status).toBe(403);
    expect((await server.request('GET', `/orgs/${org}/sso/domains`, { token: (await server.user('stranger')).token })).status).toBe(404);
  });
});

describe('just-in-time provisioning', () => {
  it('creates the account and a MEMBER membership at the first sign-in of an unknown person in a verified domain', async () => {
    const { owner, org, domain, provider } = await orgWithDomain();
    const email = `new.person@${domain}`;
    idp.addAccount('jit-1', email);
    const { answer, session } = await signIn(org, 'jit-1');
    expect(answer.status, JSON.stringify(answer.body)).toBe(302);
    const me = await server.expect(200, 'GET', '/me', { token: session! });
    expect(me.body.user.email).toBe(email);
    expect((await membersOf(org, owner.token)).find((m) => m.email === email)?.role).toBe('MEMBER');
    // No password was set: a password login with anything fails like a wrong one.
    const login = await server.request('POST', '/auth/login', { payload: { email, password: 'any password at all' } });
    expect(login.status).toBe(401);

    const audit = await server.expect(200, 'GET', `/orgs/${org}/audit-events`, { token: owner.token });
    const changes = audit.body.items.map((e: { change: string }) => e.change);
    expect(changes).toContain(`Created account ${email} at first sign-in with SSO provider Test IdP`);
    expect(changes).toContain(`Added ${email} as MEMBER at first sign-in with SSO provider Test IdP (verified domain ${domain})`);
    expect(audit.body.items.find((e: { event_type: string }) => e.event_type === 'LOGIN')).toMatchObject({ target_id: provider.id, target_name: 'Test IdP' });

    // The second sign-in finds the account and membership: nothing is created twice.
    expect((await signIn(org, 'jit-1')).answer.status).toBe(302);
    expect((await membersOf(org, owner.token)).filter((m) => m.email === email)).toHaveLength(1);
  });

  it('provisions with the default role of the role mappings, and an existing account from elsewhere joins', async () => {
    const { owner, org, domain } = await orgWithDomain();
    await server.expect(200, 'PUT', `/orgs/${org}/sso/role-mappings`, { token: owner.token, payload: { claim: 'groups', default_role: 'VIEWER', mappings: [] } });
    const elsewhere = await server.user('elsewhere');
    const email = `known.${elsewhere.email.split('@')[0]}@${domain}`;
    // An account that exists already (signed up by password) but is no member yet.
    await server.expect(201, 'POST', '/auth/signup', { payload: { email, password: 'correct horse battery staple', name: 'Known' } });
    idp.addAccount('jit-2', email);
    expect((await signIn(org, 'jit-2')).answer.status).toBe(302);
    expect((await membersOf(org, owner.token)).find((m) => m.email === email)?.role).toBe('VIEWER');
  });

  it('refuses an unknown person whose domain is not verified (or verified by another organization), creating nothing', async () => {
    const { org } = await orgWithProvider();
    const unverified = newDomain();
    const { domain: othersDomain } = await orgWithDomain();
    for (const [account, email, domain] of [['jit-3', `someone@${unverified}`, unverified], ['jit-4', `someone@${othersDomain}`, othersDomain]] as const) {
      idp.addAccount(account, email);
      const { answer, session } = await signIn(org, account);
      expect(answer.status).toBe(403);
      expect(answer.body.error.message).toBe(`${email} is not a member of this organization, and ${domain} is not one of its verified domains; ask an admin to invite you`);
      expect(session).toBeUndefined();
      expect(await server.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst()).toBeUndefined();
    }
  });
});
