import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';
import { HOST } from '../../../test/fixtures/sso.js';
import { IDP_ENTITY_ID, IDP_SSO_URL, createSamlIdp, stripSignatures, wrapSignature, type SamlUser, type Tags } from '../../../test/fixtures/saml-idp.js';

const dns = new Map<string, string[][]>();
const server = useTestServer({}, { resolveTxt: async (name) => dns.get(name) ?? Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })) });
const idp = createSamlIdp();

let domains = 0;
const newDomain = () => `saml${++domains}-${Date.now().toString(36)}.example.test`;
/** Coffer answers absolute URLs (as the browser reached it); the harness takes paths below /api/v1. */
const pathOf = (url: string) => new URL(url).pathname.replace(/^\/api\/v1/, '');

/** An organization with a SAML provider from the test IdP's metadata and a verified domain. */
async function samlOrg() {
  const { owner, org } = await server.org('owner');
  const created = await server.expect(201, 'POST', `/orgs/${org}/sso/providers`, {
    token: owner.token,
    payload: { type: 'saml', name: 'Test SAML IdP', idp_metadata_xml: idp.metadata() },
    headers: HOST,
  });
  const domain = newDomain();
  const added = await server.expect(201, 'POST', `/orgs/${org}/sso/domains`, { token: owner.token, payload: { domain } });
  dns.set(added.body.txt_record.name, [[added.body.txt_record.value]]);
  await server.expect(200, 'POST', `/orgs/${org}/sso/domains/${added.body.id}/verify`, { token: owner.token });
  const metadata = await server.request('GET', pathOf(created.body.sp_metadata_url), { headers: HOST });
  expect(metadata.status).toBe(200);
  return { owner, org, domain, provider: created.body, spMetadata: metadata.raw.body };
}

type Org = Awaited<ReturnType<typeof samlOrg>>;

/** GET start: the IdP URL (with the AuthnRequest) and the state cookie bound to this browser. */
async function start(setup: Org) {
  const answer = await server.request('GET', `/auth/sso/${setup.org}/start?provider=${setup.provider.id}`, { headers: HOST });
  expect(answer.status, JSON.stringify(answer.body)).toBe(302);
  const location = new URL(String(answer.headers.location));
  const cookie = answer.raw.cookies.find((c) => c.name === 'coffer_saml_state')!;
  expect(location.searchParams.get('RelayState')).toBe(cookie.value);
  return { location, state: cookie.value };
}

const acs = (samlResponse: string, state: string, cookie = state) =>
  server.request('POST', '/auth/sso/saml/acs', {
    headers: { ...HOST, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ SAMLResponse: samlResponse, RelayState: state }).toString(),
    cookies: { coffer_saml_state: cookie },
  });

/** Start, the IdP's (possibly altered) response, and the ACS. */
async function signIn(setup: Org, user: SamlUser, options: { tags?: Tags; alter?: (response: string) => string; using?: ReturnType<typeof createSamlIdp> } = {}) {
  const { location, state } = await start(setup);
  const response = await (options.using ?? idp).respond(setup.spMetadata, location, user, options.tags);
  const answer = await acs(options.alter ? options.alter(response) : response, state);
  return { answer, response, state, session: answer.raw.cookies.find((c) => c.name === 'coffer_session')?.value };
}

function expectRefused(answer: Awaited<ReturnType<typeof acs>>, status: number, message: RegExp) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body.error.message).toMatch(message);
  expect(answer.raw.cookies.find((c) => c.name === 'coffer_session')).toBeUndefined();
}

describe('SAML 2.0 providers (IdP built with samlify)', () => {
  it('creates a provider from IdP metadata, answers the URLs to give the IdP, serves SP metadata; GET, PATCH, DELETE', async () => {
    const { owner, org, provider, spMetadata } = await samlOrg();
    expect(provider).toMatchObject({
      type: 'saml',
      name: 'Test SAML IdP',
      issuer: IDP_ENTITY_ID,
      idp_sso_url: IDP_SSO_URL,
      acs_url: 'http://localhost/api/v1/auth/sso/saml/acs',
      sp_metadata_url: `http://localhost/api/v1/auth/sso/saml/${provider.id}/metadata`,
      sp_entity_id: `http://localhost/api/v1/auth/sso/saml/${provider.id}/metadata`,
    });
    expect(spMetadata).toContain(`entityID="${provider.sp_entity_id}"`);
    expect(spMetadata).toContain('Location="http://localhost/api/v1/auth/sso/saml/acs"');
    expect(spMetadata).toContain('WantAssertionsSigned="true"');

    expect((await server.expect(200, 'GET', `/orgs/${org}/sso/providers/${provider.id}`, { token: owner.token, headers: HOST })).body).toEqual(provider);
    const renamed = await server.expect(200, 'PATCH', `/orgs/${org}/sso/providers/${provider.id}`, { token: owner.token, payload: { name: 'Corporate IdP' }, headers: HOST });
    expect(renamed.body).toMatchObject({ type: 'saml', name: 'Corporate IdP', acs_url: provider.acs_url });
    const oidcField = await server.request('PATCH', `/orgs/${org}/sso/providers/${provider.id}`, { token: owner.token, payload: { client_secret: 'x' } });
    expect(oidcField.status).toBe(400);
    expect(oidcField.body.error.details.field).toBe('body.client_secret');
    const publicList = await server.expect(200, 'GET', `/auth/sso/${org}/providers`);
    expect(publicList.body.items).toEqual([{ id: provider.id, name: 'Corporate IdP', type: 'saml', start_url: `/api/v1/auth/sso/${org}/start?provider=${provider.id}` }]);

    await server.expect(204, 'DELETE', `/orgs/${org}/sso/providers/${provider.id}`, { token: owner.token });
    expect((await server.request('GET', pathOf(provider.sp_metadata_url))).status).toBe(404);
    const events = (await server.expect(200, 'GET', `/orgs/${org}/audit-events`, { token: owner.token })).body.items as { target_type: string; event_type: string }[];
    expect(events.filter((e) => e.target_type === 'sso_provider').map((e) => e.event_type).sort()).toEqual(['CREATE', 'DELETE', 'UPDATE']);
  });

  it('needs organization:setup for SAML providers: 403 to a member without it, 404 to a stranger; the SP metadata is public', async () => {
    const { owner, org, provider } = await samlOrg();
    const developer = await server.member(owner.token, org, 'DEVELOPER');
    const stranger = await server.user('stranger');
    const calls = [
      ['POST', `/orgs/${org}/sso/providers`, { type: 'saml', name: 'Another', idp_metadata_xml: idp.metadata() }],
      ['GET', `/orgs/${org}/sso/providers/${provider.id}`, undefined],
      ['PATCH', `/orgs/${org}/sso/providers/${provider.id}`, { name: 'Renamed' }],
      ['DELETE', `/orgs/${org}/sso/providers/${provider.id}`, undefined],
    ] as const;
    for (const [method, path, payload] of calls) {
      const refused = await server.request(method, path, { token: developer.token, payload });
      expect([refused.status, refused.body.error.details.action], `${method} ${path}`).toEqual([403, 'organization:setup']);
      expect((await server.request(method, path, { token: stranger.token, payload })).status, `${method} ${path}`).toBe(404);
    }
    expect((await server.request('GET', pathOf(provider.sp_metadata_url))).status).toBe(200);
  });

  it('refuses metadata that is not XML, has no sign-on endpoint or no signing certificate, naming idp_metadata_xml', async () => {
    const { owner, org } = await server.org('owner');
    const good = idp.metadata();
    const cases: [string, RegExp][] = [
      ['not xml at all', /well-formed XML/],
      ['<html><body>login</body></html>', /EntityDescriptor/],
      [good.replace(/<(\w+:)?SingleSignOnService[\s\S]*?<\/(\w+:)?SingleSignOnService>/g, ''), /SingleSignOnService/],
      [good.replace(/<(\w+:)?KeyDescriptor[\s\S]*?<\/(\w+:)?KeyDescriptor>/g, ''), /signing certificate/],
    ];
    for (const [xml, reason] of cases) {
      const answer = await server.request('POST', `/orgs/${org}/sso/providers`, { token: owner.token, payload: { type: 'saml', name: 'Bad', idp_metadata_xml: xml } });
      expect(answer.status, xml.slice(0, 80)).toBe(400);
      expect(answer.body.error.details.field).toBe('body.idp_metadata_xml');
      expect(answer.body.error.message).toMatch(reason);
    }
    const missing = await server.request('POST', `/orgs/${org}/sso/providers`, { token: owner.token, payload: { type: 'saml', name: 'Bad' } });
    expect([missing.status, missing.body.error.details.field]).toEqual([400, 'body.idp_metadata_xml']);
    const oidcMissing = await server.request('POST', `/orgs/${org}/sso/providers`, { token: owner.token, payload: { type: 'oidc', name: 'Bad', client_id: 'c', client_secret: 's' } });
    expect([oidcMissing.status, oidcMissing.body.error.details.field]).toEqual([400, 'body.issuer']);
  });
});

describe('SAML 2.0 sign-in', () => {
  it('accepts a signed response: JIT provisioning, role from the groups attribute, a normal session, LOGIN naming the provider', async () => {
    const setup = await samlOrg();
    const { owner, org, domain, provider } = setup;
    await server.expect(200, 'PUT', `/orgs/${org}/sso/role-mappings`, {
      token: owner.token,
      payload: { claim: 'groups', default_role: null, mappings: [{ value: 'readers', role: 'VIEWER' }, { value: 'platform', role: 'DEVOPS' }] },
    });
    const email = `ada@${domain}`;
    const first = await signIn(setup, { email, name: 'Ada', groups: ['readers', 'platform'] });
    expect(first.answer.status, JSON.stringify(first.answer.body)).toBe(302);
    expect(first.answer.headers.location).toBe('/');
    expect(first.session).toBeTruthy();
    const csrf = first.answer.raw.cookies.find((c) => c.name === 'coffer_csrf');
    expect(csrf?.value).toBeTruthy();

    // The session is a session: it reads the organization (cookie + CSRF as any other).
    const me = await server.expect(200, 'GET', '/me', { cookies: { coffer_session: first.session! } });
    expect(me.body.user).toMatchObject({ email, name: 'Ada' });
    expect(me.body.organizations.map((o: { slug: string }) => o.slug)).toContain(org);
    const members = (await server.expect(200, 'GET', `/orgs/${org}/members`, { token: owner.token })).body.items as { email: string; role: string; name: string }[];
    expect(members.find((m) => m.email === email)).toMatchObject({ role: 'DEVOPS' });

    // The next sign-in re-evaluates the role from the attribute.
    const second = await signIn(setup, { email, groups: ['readers'] });
    expect(second.answer.status).toBe(302);
    const after = (await server.expect(200, 'GET', `/orgs/${org}/members`, { token: owner.token })).body.items as { email: string; role: string }[];
    expect(after.find((m) => m.email === email)?.role).toBe('VIEWER');

    const events = (await server.expect(200, 'GET', `/orgs/${org}/audit-events`, { token: owner.token })).body.items as Record<string, unknown>[];
    const logins = events.filter((e) => e.event_type === 'LOGIN');
    expect(logins).toHaveLength(2);
    expect(logins[0]).toMatchObject({ target_type: 'sso_provider', target_id: provider.id, change: `Signed in with SSO provider ${provider.name}`, details: { provider: { type: 'saml', issuer: IDP_ENTITY_ID }, subject: email } });
    expect(events.some((e) => e.event_type === 'CREATE' && e.target_type === 'member' && String(e.change).includes('Test SAML IdP'))).toBe(true);
  });

  it('refuses an unsigned response', async () => {
    const setup = await samlOrg();
    const { answer } = await signIn(setup, { email: `u@${setup.domain}` }, { alter: stripSignatures });
    expectRefused(answer, 401, /^The identity provider's SAML response was refused: Invalid signature/);
  });

  it('refuses a response signed by a key the metadata does not publish', async () => {
    const setup = await samlOrg();
    const { answer } = await signIn(setup, { email: `k@${setup.domain}` }, { using: createSamlIdp({ key: 'other' }) });
    expectRefused(answer, 401, /^The identity provider's SAML response was refused: Invalid signature/);
  });

  it('refuses an expired assertion, though signed', async () => {
    const setup = await samlOrg();
    const past = new Date(Date.now() - 3600_000).toISOString();
    const { answer } = await signIn(setup, { email: `e@${setup.domain}` }, { tags: { ConditionsNotOnOrAfter: past, SubjectConfirmationDataNotOnOrAfter: past, ConditionsNotBefore: new Date(Date.now() - 7200_000).toISOString() } });
    expectRefused(answer, 401, /^The identity provider's SAML response was refused: .*(expired|subject confirmation)/i);
  });

  it('refuses an assertion for another audience, though signed', async () => {
    const setup = await samlOrg();
    const { answer } = await signIn(setup, { email: `a@${setup.domain}` }, { tags: { Audience: 'https://another-sp.example.test/metadata' } });
    expectRefused(answer, 401, /^The identity provider's SAML response was refused: .*audience/i);
  });

  it('refuses an assertion for another recipient or destination, though signed', async () => {
    const setup = await samlOrg();
    const recipient = await signIn(setup, { email: `r@${setup.domain}` }, { tags: { SubjectRecipient: 'https://another-sp.example.test/acs' } });
    expectRefused(recipient.answer, 401, /Recipient https:\/\/another-sp\.example\.test\/acs is not this service provider's ACS URL/);
    const destination = await signIn(setup, { email: `d@${setup.domain}` }, { tags: { Destination: 'https://another-sp.example.test/acs' } });
    expectRefused(destination.answer, 401, /Destination https:\/\/another-sp\.example\.test\/acs is not/);
  });

  it('refuses a response to another AuthnRequest (InResponseTo), and a RelayState this browser did not start', async () => {
    const setup = await samlOrg();
    const { answer } = await signIn(setup, { email: `i@${setup.domain}` }, { tags: { InResponseTo: '_not-the-request-coffer-sent' } });
    expectRefused(answer, 401, /InResponseTo/);
    const { location, state } = await start(setup);
    const response = await idp.respond(setup.spMetadata, location, { email: `i@${setup.domain}` });
    expectRefused(await acs(response, state, 'another-browser-state'), 401, /does not match the one this browser started/);
  });

  it('refuses a replayed assertion', async () => {
    const setup = await samlOrg();
    const { owner, org } = setup;
    const member = await server.member(owner.token, org, 'VIEWER');
    // An existing member (not in the verified domain): membership decides, not provisioning.
    const first = await signIn(setup, { email: member.email });
    expect(first.answer.status, JSON.stringify(first.answer.body)).toBe(302);
    expectRefused(await acs(first.response, first.state), 401, /assertion was already used \(a replay\)/);
  });

  it('refuses signature wrapping: a forged assertion beside or around the signed one', async () => {
    const setup = await samlOrg();
    const { owner, org } = setup;
    const victim = await server.member(owner.token, org, 'ADMIN');
    for (const placement of ['nested', 'sibling'] as const) {
      const { answer } = await signIn(setup, { email: `attacker-${placement}@${setup.domain}` }, { alter: (response) => wrapSignature(response, victim.email, placement) });
      expectRefused(answer, 401, /^The identity provider's SAML response was refused: Invalid signature/);
    }
  });

  it('refuses a form without SAMLResponse naming the field, and a JSON body on the ACS', async () => {
    const missing = await server.request('POST', '/auth/sso/saml/acs', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'RelayState=abc' });
    expect([missing.status, missing.body.error.details.field]).toEqual([400, 'body.SAMLResponse']);
    const unknown = await server.request('POST', '/auth/sso/saml/acs', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'SAMLResponse=AAAA&RelayState=abc' });
    expectRefused(unknown, 401, /does not match the one this browser started/);
  });
});
