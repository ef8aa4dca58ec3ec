import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';
import { COFFER_CALLBACK, startIdp } from '../../../test/fixtures/oidc-idp.js';
import { HOST, ssoSteps } from '../../../test/fixtures/sso.js';

const server = useTestServer();
let idp: Awaited<ReturnType<typeof startIdp>>;
beforeAll(async () => {
  idp = await startIdp();
});
afterAll(() => idp.close());

const { orgWithProvider, signInAtIdp, callback } = ssoSteps(server, () => idp);

describe('OpenID Connect sign-in against a real provider (oidc-provider)', () => {
  it('signs a member in: start → IdP login and consent → callback → a session that calls /me, audited with the provider', async () => {
    const { owner, org, provider } = await orgWithProvider();
    const member = await server.member(owner.token, org, 'DEVELOPER');
    idp.addAccount('member-1', member.email);
    const { callback: path, state } = await signInAtIdp(org, 'member-1');
    const answer = await callback(path, state);
    expect(answer.status, JSON.stringify(answer.body)).toBe(302);
    expect(answer.headers.location).toBe('/');
    const session = answer.raw.cookies.find((c) => c.name === 'coffer_session')!;
    const csrf = answer.raw.cookies.find((c) => c.name === 'coffer_csrf')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(csrf.value).toBeTruthy();
    const me = await server.expect(200, 'GET', '/me', { cookies: { coffer_session: session.value } });
    expect(me.body.user.email).toBe(member.email);

    const log = await server.expect(200, 'GET', `/orgs/${org}/audit-events?event_type=LOGIN`, { token: owner.token });
    const login = log.body.items.find((e: { event_type: string }) => e.event_type === 'LOGIN');
    expect(login).toMatchObject({ target_type: 'sso_provider', target_id: provider.id, target_name: 'Test IdP', actor: expect.objectContaining({ id: member.id }) });
    const events = await server.expect(200, 'GET', '/me/security-events', { cookies: { coffer_session: session.value } });
    expect(events.body.items.map((e: { event_type: string }) => e.event_type)).toContain('LOGIN');
  });

  it('refuses a replayed callback with 401: the sign-in is single use', async () => {
    const { owner, org } = await orgWithProvider();
    const member = await server.member(owner.token, org, 'VIEWER');
    idp.addAccount('member-2', member.email);
    const { callback: path, state } = await signInAtIdp(org, 'member-2');
    expect((await callback(path, state)).status).toBe(302);
    const replay = await callback(path, state);
    expect(replay.status).toBe(401);
    expect(replay.body.error.message).toMatch(/unknown, expired or already used/);
    expect(replay.raw.cookies.find((c) => c.name === 'coffer_session')).toBeUndefined();
  });

  it('refuses a wrong state with 401, whether or not it matches the browser cookie', async () => {
    const { owner, org } = await orgWithProvider();
    const member = await server.member(owner.token, org, 'VIEWER');
    idp.addAccount('member-3', member.email);
    const { callback: path, state } = await signInAtIdp(org, 'member-3');
    const forged = path.replace(/state=[^&]+/, 'state=forged-state-value');
    const mismatched = await callback(forged, state);
    expect(mismatched.status).toBe(401);
    expect(mismatched.body.error.message).toMatch(/does not match/);
    const unknown = await callback(forged, 'forged-state-value');
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.message).toMatch(/unknown, expired or already used/);
    // Another browser's cookie cannot finish this sign-in either (login CSRF).
    expect((await server.request('GET', path, { headers: HOST })).status).toBe(401);
  });

  it('refuses a person who is not a member with 403 saying so, and opens no session', async () => {
    const { org } = await orgWithProvider();
    const outsider = await server.user('outsider');
    idp.addAccount('outsider-1', outsider.email);
    const { callback: path, state } = await signInAtIdp(org, 'outsider-1');
    const answer = await callback(path, state);
    expect(answer.status).toBe(403);
    expect(answer.body.error.message).toContain(`${outsider.email} is not a member of this organization`);
    expect(answer.raw.cookies.find((c) => c.name === 'coffer_session')).toBeUndefined();
  });

  it('refuses an email the IdP has not verified with 403', async () => {
    const { owner, org } = await orgWithProvider();
    const member = await server.member(owner.token, org, 'VIEWER');
    idp.addAccount('unverified-1', member.email, false);
    const { callback: path, state } = await signInAtIdp(org, 'unverified-1');
    const answer = await callback(path, state);
    expect(answer.status).toBe(403);
    expect(answer.body.error.message).toMatch(/has not verified/);
  });

  it('refuses with 401 when the IdP rejects the code exchange (a wrong client secret), naming its error', async () => {
    const { owner, org } = await server.org('owner');
    await server.expect(201, 'POST', `/orgs/${org}/sso/providers`, {
      token: owner.token,
      payload: { type: 'oidc', name: 'Misconfigured', issuer: idp.issuer, client_id: 'coffer', client_secret: 'not-the-secret' },
      headers: HOST,
    });
    const member = await server.member(owner.token, org, 'VIEWER');
    idp.addAccount('member-4', member.email);
    const { callback: path, state } = await signInAtIdp(org, 'member-4');
    const answer = await callback(path, state);
    expect(answer.status).toBe(401);
    expect(answer.body.error.message).toMatch(/^The identity provider's answer was refused: invalid_client/);
    expect(answer.raw.body).not.toContain('not-the-secret');
  });

  it('answers 404 to start for an unknown organization or one without a provider', async () => {
    const { org } = await server.org('plain');
    for (const slug of [org, 'no-such-org-here']) {
      const answer = await server.request('GET', `/auth/sso/${slug}/start`, { headers: HOST });
      expect(answer.status).toBe(404);
      expect(answer.body.error.message).toBe(`Single sign-on for organization ${slug} not found`);
    }
  });
});

describe('SSO providers', () => {
  it('creates, lists, reads and deletes a provider, never returning or auditing the client secret', async () => {
    const { owner, org, provider } = await orgWithProvider();
    expect(provider).toMatchObject({ type: 'oidc', name: 'Test IdP', issuer: idp.issuer, client_id: 'coffer', scopes: ['openid', 'email', 'profile'], redirect_uri: COFFER_CALLBACK });
    expect(provider).not.toHaveProperty('client_secret');
    const list = await server.expect(200, 'GET', `/orgs/${org}/sso/providers`, { token: owner.token });
    expect(list.body.items.map((p: { id: string }) => p.id)).toEqual([provider.id]);
    await server.expect(200, 'GET', `/orgs/${org}/sso/providers/${provider.id}`, { token: owner.token });
    const stored = await server.db.selectFrom('sso_providers').selectAll().execute();
    const audit = await server.expect(200, 'GET', `/orgs/${org}/audit-events`, { token: owner.token });
    for (const text of [JSON.stringify(list.body), JSON.stringify(audit.body), JSON.stringify(stored.map((r) => ({ ...r, client_secret_sealed: r.client_secret_sealed!.toString('latin1') })))]) {
      expect(text).not.toContain(idp.clientSecret);
    }
    expect(audit.body.items.some((e: { target_type: string; event_type: string }) => e.target_type === 'sso_provider' && e.event_type === 'CREATE')).toBe(true);
    await server.expectDeleted(`/orgs/${org}/sso/providers/${provider.id}`, owner.token);
    const after = await server.expect(200, 'GET', `/orgs/${org}/audit-events`, { token: owner.token });
    expect(JSON.stringify(after.body)).not.toContain(idp.clientSecret);
  });

  it('needs organization:setup: 403 to a member without it, 404 to a stranger', async () => {
    const { owner, org, provider } = await orgWithProvider();
    const developer = await server.member(owner.token, org, 'DEVELOPER');
    const refused = await server.request('GET', `/orgs/${org}/sso/providers`, { token: developer.token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.details.action).toBe('organization:setup');
    const devops = await server.member(owner.token, org, 'DEVOPS');
    await server.expect(200, 'GET', `/orgs/${org}/sso/providers`, { token: devops.token });
    const stranger = await server.user('stranger');
    for (const [method, path] of [['GET', `/orgs/${org}/sso/providers`], ['GET', `/orgs/${org}/sso/providers/${provider.id}`], ['DELETE', `/orgs/${org}/sso/providers/${provider.id}`]] as const) {
      expect((await server.request(method, path, { token: stranger.token })).status).toBe(404);
    }
    expect((await server.request('POST', `/orgs/${org}/sso/providers`, { token: stranger.token, payload: { type: 'oidc', name: 'x', issuer: idp.issuer, client_id: 'c', client_secret: 's' } })).status).toBe(404);
  });

  it('refuses a non-https issuer, an unknown type and a duplicate name with a 4xx naming the field', async () => {
    const { owner, org } = await orgWithProvider();
    const post = (payload: Record<string, unknown>) => server.request('POST', `/orgs/${org}/sso/providers`, { token: owner.token, payload: { type: 'oidc', name: 'Other', issuer: 'https://idp.example.test', client_id: 'c', client_secret: 's', ...payload } });
    const http = await post({ issuer: 'http://idp.example.test' });
    expect(http.status).toBe(400);
    expect(http.body.error.details.field).toBe('body.issuer');
    expect((await post({ issuer: 'not a url' })).body.error.details.field).toBe('body.issuer');
    expect((await post({ type: 'ldap' })).body.error.details.field).toBe('body.type');
    // A SAML provider takes none of the OpenID Connect fields (sso-saml.api.test.ts has the rest).
    expect((await post({ type: 'saml' })).body.error.details.field).toBe('body.issuer');
    const duplicate = await post({ name: 'Test IdP' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.details.field).toBe('name');
  });
});

describe('SSO provider edits', () => {
  it('PATCH edits name and scopes, replaces the client secret without ever showing it, and audits the change', async () => {
    const { owner, org, provider } = await orgWithProvider();
    const renamed = await server.expect(200, 'PATCH', `/orgs/${org}/sso/providers/${provider.id}`, {
      token: owner.token,
      payload: { name: 'Corporate IdP', scopes: ['email'], client_secret: 'fake-rotated-secret-0000' },
      headers: HOST,
    });
    expect(renamed.body).toMatchObject({ id: provider.id, name: 'Corporate IdP', scopes: ['openid', 'email'], issuer: idp.issuer, redirect_uri: COFFER_CALLBACK });
    expect(renamed.body).not.toHaveProperty('client_secret');
    const audit = await server.expect(200, 'GET', `/orgs/${org}/audit-events`, { token: owner.token });
    const event = audit.body.items.find((e: { event_type: string; target_type: string }) => e.event_type === 'UPDATE' && e.target_type === 'sso_provider');
    expect(event).toMatchObject({
      target_name: 'Corporate IdP',
      details: { before: { name: 'Test IdP', scopes: 'openid email profile', client_secret: '(set)' }, after: { name: 'Corporate IdP', scopes: 'openid email', client_secret: '(changed)' } },
    });
    expect(JSON.stringify(audit.body)).not.toContain('fake-rotated-secret-0000');

    // The stored secret is the new one: the IdP now refuses the exchange, until it is set back.
    const member = await server.member(owner.token, org, 'VIEWER');
    idp.addAccount('patched-1', member.email);
    let signedIn = await signInAtIdp(org, 'patched-1');
    expect((await callback(signedIn.callback, signedIn.state)).body.error.message).toMatch(/invalid_client/);
    await server.expect(200, 'PATCH', `/orgs/${org}/sso/providers/${provider.id}`, { token: owner.token, payload: { client_secret: idp.clientSecret } });
    signedIn = await signInAtIdp(org, 'patched-1');
    expect((await callback(signedIn.callback, signedIn.state)).status).toBe(302);
  });

  it('refuses an empty edit, a changed type, a bad issuer and a taken name, naming the field; 404 for another organization\'s provider', async () => {
    const { owner, org, provider } = await orgWithProvider();
    await server.expect(201, 'POST', `/orgs/${org}/sso/providers`, { token: owner.token, payload: { type: 'oidc', name: 'Second', issuer: idp.issuer, client_id: 'c', client_secret: 'fake-secret' } });
    const patch = (payload: Record<string, unknown>) => server.request('PATCH', `/orgs/${org}/sso/providers/${provider.id}`, { token: owner.token, payload });
    expect((await patch({})).status).toBe(400);
    expect((await patch({ type: 'saml' })).status).toBe(400);
    expect((await patch({ issuer: 'http://idp.example.test' })).body.error.details.field).toBe('body.issuer');
    const taken = await patch({ name: 'Second' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.details.field).toBe('name');
    const other = await orgWithProvider();
    expect((await server.request('PATCH', `/orgs/${other.org}/sso/providers/${provider.id}`, { token: other.owner.token, payload: { name: 'x' } })).status).toBe(404);
  });
});

describe('public SSO provider list', () => {
  it('names the providers and where to start, and 404s for an organization without SSO', async () => {
    const { org, provider } = await orgWithProvider();
    const list = await server.expect(200, 'GET', `/auth/sso/${org}/providers`);
    expect(list.body).toEqual({ items: [{ id: provider.id, name: 'Test IdP', type: 'oidc', start_url: `/api/v1/auth/sso/${org}/start?provider=${provider.id}` }] });
    const plain = await server.org('plain');
    expect((await server.request('GET', `/auth/sso/${plain.org}/providers`)).status).toBe(404);
  });
});
