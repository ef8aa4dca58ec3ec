import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';
import { startIdp } from '../../../test/fixtures/oidc-idp.js';
import { ssoSteps } from '../../../test/fixtures/sso.js';

const server = useTestServer();
let idp: Awaited<ReturnType<typeof startIdp>>;
beforeAll(async () => {
  idp = await startIdp();
});
afterAll(() => idp.close());
afterEach(() => idp.tamperIdTokens(undefined));

const { orgWithProvider, start, signInAtIdp, callback } = ssoSteps(server, () => idp);

/** A member of a fresh organization with a provider, known to the IdP as `account`. */
async function memberAtIdp(account: string) {
  const { owner, org } = await orgWithProvider();
  const member = await server.member(owner.token, org, 'VIEWER');
  idp.addAccount(account, member.email);
  return { owner, org, member };
}

/** Every refusal is a 4xx JSON error (never a redirect) and opens no session. */
function expectRefused(answer: Awaited<ReturnType<typeof callback>>, status: number, message: RegExp) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body.error.message).toMatch(message);
  expect(answer.raw.cookies.find((c) => c.name === 'coffer_session')).toBeUndefined();
}

describe('OpenID Connect sign-ins Coffer refuses (real oidc-provider)', () => {
  it('refuses an authorization code replayed into a second sign-in: the IdP answers invalid_grant', async () => {
    const { org } = await memberAtIdp('replay-1');
    const first = await signInAtIdp(org, 'replay-1');
    expect((await callback(first.callback, first.state)).status).toBe(302);
    // An attacker holding the used code starts a sign-in of their own and offers it there.
    const second = await start(org);
    const replayed = first.callback.replace(/state=[^&]+/, `state=${second.state}`);
    expectRefused(await callback(replayed, second.state), 401, /^The identity provider's answer was refused: invalid_grant/);
  });

  it('refuses an ID token signed by a key the IdP does not publish', async () => {
    const { org } = await memberAtIdp('foreign-key-1');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    idp.tamperIdTokens((claims) => ({ claims, key: privateKey }));
    const { callback: path, state } = await signInAtIdp(org, 'foreign-key-1');
    expectRefused(await callback(path, state), 401, /^The identity provider's answer was refused: .*signature/i);
  });

  it('refuses an ID token issued to another client (wrong audience), though signed by the IdP', async () => {
    const { org } = await memberAtIdp('audience-1');
    idp.tamperIdTokens((claims) => ({ claims: { ...claims, aud: 'another-client', azp: 'another-client' } }));
    const { callback: path, state } = await signInAtIdp(org, 'audience-1');
    expectRefused(await callback(path, state), 401, /^The identity provider's answer was refused: .*"aud"/);
  });

  it('refuses an expired ID token, though signed by the IdP', async () => {
    const { org } = await memberAtIdp('expired-1');
    const now = Math.floor(Date.now() / 1000);
    idp.tamperIdTokens((claims) => ({ claims: { ...claims, iat: now - 7200, exp: now - 3600 } }));
    const { callback: path, state } = await signInAtIdp(org, 'expired-1');
    expectRefused(await callback(path, state), 401, /^The identity provider's answer was refused: .*"exp"/);
  });

  it('refuses an ID token whose nonce is not the one this sign-in sent', async () => {
    const { org } = await memberAtIdp('nonce-1');
    idp.tamperIdTokens((claims) => ({ claims: { ...claims, nonce: 'some-other-nonce' } }));
    const { callback: path, state } = await signInAtIdp(org, 'nonce-1');
    expectRefused(await callback(path, state), 401, /^The identity provider's answer was refused: .*"nonce"/);
  });

  it('refuses a wrong state and a callback without one, before asking the IdP anything', async () => {
    const { org } = await memberAtIdp('state-1');
    const { callback: path, state } = await signInAtIdp(org, 'state-1');
    expectRefused(await callback(path.replace(/state=[^&]+/, 'state=not-the-state'), state), 401, /does not match the one this browser started/);
    const missing = await callback(path.replace(/state=[^&]+&?/, ''), state);
    expectRefused(missing, 400, /state/);
    // The real state still works once: the refusals above consumed nothing.
    expect((await callback(path, state)).status).toBe(302);
  });

  it('refuses an error answer from the IdP (the person cancelled), naming its error', async () => {
    const { org } = await memberAtIdp('cancel-1');
    const { state } = await start(org);
    expectRefused(await callback(`/auth/sso/callback?state=${state}&error=access_denied&error_description=cancelled`, state), 401, /refused the sign-in: access_denied: cancelled/);
  });
});
