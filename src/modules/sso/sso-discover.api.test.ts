import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';
import { COFFER_CALLBACK } from '../../../test/fixtures/oidc-idp.js';

/** DNS as the test publishes it: TXT records by name; any other name does not exist. */
const dns = new Map<string, string[][]>();
const resolveTxt = async (name: string) => {
  const records = dns.get(name);
  if (!records) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  return records;
};
const server = useTestServer({}, { resolveTxt });

let count = 0;
const newDomain = () => `disc${++count}-${Date.now().toString(36)}.example.test`;
const HOST = { host: 'localhost' };

/** An organization with `providers` OIDC providers (the issuer is never contacted here) and `domain` added, verified when asked. */
async function orgWith(domain: string, options: { providers: number; verify: boolean }) {
  const { owner, org } = await server.org('owner');
  const ids: string[] = [];
  for (let i = 1; i <= options.providers; i++) {
    const created = await server.expect(201, 'POST', `/orgs/${org}/sso/providers`, {
      token: owner.token,
      payload: { type: 'oidc', name: `IdP ${i}`, issuer: 'http://127.0.0.1:9/', client_id: 'coffer', client_secret: 'fake-secret' },
      headers: HOST,
    });
    expect(created.body.redirect_uri).toBe(COFFER_CALLBACK);
    ids.push(created.body.id);
  }
  const added = await server.expect(201, 'POST', `/orgs/${org}/sso/domains`, { token: owner.token, payload: { domain } });
  if (options.verify) {
    dns.set(added.body.txt_record.name, [[added.body.txt_record.value]]);
    await server.expect(200, 'POST', `/orgs/${org}/sso/domains/${added.body.id}/verify`, { token: owner.token });
  }
  return { org, ids };
}

describe('GET /auth/sso/discover: single sign-on by email domain', () => {
  it("names a verified domain's organization and each provider's start URL, without credentials", async () => {
    const domain = newDomain();
    const { org, ids } = await orgWith(domain, { providers: 2, verify: true });
    const found = await server.expect(200, 'GET', `/auth/sso/discover?domain=${domain.toUpperCase()}`);
    expect(found.body).toEqual({
      organization: org,
      items: ids.map((id, index) => ({ id, name: `IdP ${index + 1}`, type: 'oidc', start_url: `/api/v1/auth/sso/${org}/start?provider=${id}` })),
    });
  });

  it('answers one and the same 404 for an unknown domain, a merely claimed one and a verified one without providers', async () => {
    const claimed = newDomain();
    await orgWith(claimed, { providers: 1, verify: false });
    const bare = newDomain();
    await orgWith(bare, { providers: 0, verify: true });
    for (const domain of [newDomain(), claimed, bare]) {
      const answer = await server.request('GET', `/auth/sso/discover?domain=${domain}`);
      expect(answer.status).toBe(404);
      expect(answer.body.error.message).toBe(`Single sign-on for email domain ${domain} not found`);
      expect(JSON.stringify(answer.body)).not.toMatch(/org|owner/i);
    }
  });

  it('refuses a missing or malformed domain with 400 naming query.domain', async () => {
    for (const query of ['', '?domain=', '?domain=not_a_domain', '?domain=ada@example.com']) {
      const answer = await server.request('GET', `/auth/sso/discover${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.body.error.details.field).toBe('query.domain');
    }
  });
});
