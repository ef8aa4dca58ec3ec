import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';
import { startIdp } from '../../../test/fixtures/oidc-idp.js';
import { HOST, ssoSteps } from '../../../test/fixtures/sso.js';

const server = useTestServer();
let idp: Awaited<ReturnType<typeof startIdp>>;
beforeAll(async () => {
  idp = await startIdp();
});
afterAll(() => idp.close());

const { orgWithProvider, start, signInAtIdp } = ssoSteps(server, () => idp);

/** What Chromium sends on a top-level navigation. */
const BROWSER = { ...HOST, accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

const asBrowser = (path: string, state?: string) => server.request('GET', path, { headers: BROWSER, ...(state ? { cookies: { coffer_sso_state: state } } : {}) });

/** A refusal as a browser sees it: a 302 to the sign-in page with the code, the message in a cookie for that page only, no session. */
function expectSentToSignIn(answer: Awaited<ReturnType<typeof asBrowser>>, code: string, message: RegExp) {
  expect(answer.status, answer.raw.body).toBe(302);
  expect(answer.headers.location).toBe(`/signin?sso_error=${code}`);
  const cookie = answer.raw.cookies.find((c) => c.name === 'coffer_sso_error')!;
  expect(cookie).toMatchObject({ path: '/signin', sameSite: 'Lax', maxAge: 300 });
  expect(cookie.httpOnly).toBeFalsy();
  const value = JSON.parse(decodeURIComponent(cookie.value));
  expect(value.code).toBe(code);
  expect(value.message).toMatch(message);
  expect(value.request_id).toBeTruthy();
  expect(answer.raw.cookies.find((c) => c.name === 'coffer_session')).toBeUndefined();
  return value.message as string;
}

describe('SSO refusals reach a browser as the console sign-in page', () => {
  it('sends a person who is not a member back to /signin with the message, keeping the email out of the URL', async () => {
    const { org } = await orgWithProvider();
    const outsider = await server.user('outsider');
    idp.addAccount('page-outsider', outsider.email);
    const { callback: path, state } = await signInAtIdp(org, 'page-outsider');
    const message = expectSentToSignIn(await asBrowser(path, state), 'FORBIDDEN', /is not a member of this organization/);
    expect(message).toContain(outsider.email);
  });

  it('sends a wrong state, a replay and an IdP error answer to /signin with 401 codes and their own messages', async () => {
    const { owner, org } = await orgWithProvider();
    const member = await server.member(owner.token, org, 'VIEWER');
    idp.addAccount('page-member', member.email);
    const { callback: path, state } = await signInAtIdp(org, 'page-member');
    expectSentToSignIn(await asBrowser(path.replace(/state=[^&]+/, 'state=forged'), state), 'UNAUTHENTICATED', /does not match the one this browser started/);
    const ok = await asBrowser(path, state);
    expect(ok.status).toBe(302);
    expect(ok.headers.location).toBe('/');
    expectSentToSignIn(await asBrowser(path, state), 'UNAUTHENTICATED', /unknown, expired or already used/);

    const cancelled = await start(org);
    expectSentToSignIn(await asBrowser(`/auth/sso/callback?state=${cancelled.state}&error=access_denied&error_description=cancelled`, cancelled.state), 'UNAUTHENTICATED', /refused the sign-in: access_denied: cancelled/);
    // A callback without a state (a schema-level refusal) lands there too.
    expectSentToSignIn(await asBrowser('/auth/sso/callback'), 'VALIDATION_FAILED', /query.state: is required/);
  });

  it('sends a start for an organization without SSO to /signin too', async () => {
    expectSentToSignIn(await asBrowser('/auth/sso/no-such-org-here/start'), 'NOT_FOUND', /Single sign-on for organization no-such-org-here not found/);
  });

  it('keeps the JSON error for a client that does not ask for HTML', async () => {
    const answer = await server.request('GET', '/auth/sso/no-such-org-here/start', { headers: { ...HOST, accept: 'application/json' } });
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('NOT_FOUND');
    expect(answer.raw.cookies.find((c) => c.name === 'coffer_sso_error')).toBeUndefined();
  });
});
