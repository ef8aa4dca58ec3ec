import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdp } from '../../test/fixtures/oidc-idp.js';
import { chromiumAvailable, expectAccessible, openPage, signedUp, startConsole, type Console } from './browser.js';

/**
 * "Sign in with SSO" in a real Chromium: the console's sign-in page, by organization slug, to a
 * real OpenID Connect provider (oidc-provider) and its login and consent pages, and back to the
 * console with a session.
 */
const password = 'correct horse battery staple';
let consoleUnderTest: Console;
let idp: Awaited<ReturnType<typeof startIdp>>;

describe.runIf(chromiumAvailable())('SSO sign-in in Chromium', () => {
  beforeAll(async () => {
    consoleUnderTest = await startConsole();
    idp = await startIdp(`${consoleUnderTest.url}/api/v1/auth/sso/callback`);
  }, 300_000);
  afterAll(async () => {
    await idp?.close();
    await consoleUnderTest?.close();
  });

  it('signs a member in through the IdP from the sign-in page, accessibly', async () => {
    const { url } = consoleUnderTest;
    const suffix = randomBytes(4).toString('hex');
    const org = `sso-${suffix}`;
    const owner = await signedUp(url, `owner-${suffix}@example.test`, password, 'Owner');
    await owner('POST', '/orgs', { slug: org });
    await owner('POST', `/orgs/${org}/sso/providers`, { type: 'oidc', name: 'Test IdP', issuer: idp.issuer, client_id: 'coffer', client_secret: idp.clientSecret });
    const memberEmail = `member-${suffix}@example.test`;
    const member = await signedUp(url, memberEmail, password, 'Member');
    const invitation = await owner('POST', `/orgs/${org}/invitations`, { email: memberEmail, role: 'VIEWER' });
    await member('POST', `/invitations/${invitation.token}/accept`);
    idp.addAccount('browser-member', memberEmail);

    const { context, page, problems } = await openPage(consoleUnderTest.browser);
    await page.goto(`${url}/`);
    await page.getByRole('heading', { level: 1, name: 'Sign in to Coffer' }).waitFor();
    await expectAccessible(page, 'sign in with sso');

    // An organization without SSO is refused on the page, saying so.
    await page.getByLabel('Organization').fill('no-such-org');
    await page.getByRole('button', { name: 'Continue with SSO' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Single sign-on for organization no-such-org not found');

    // The console logged nothing but the refused lookup (a 404) so far.
    expect(problems.filter((p) => !/status of 404/.test(p))).toEqual([]);
    await page.getByLabel('Organization').fill(org);
    await page.getByRole('button', { name: 'Continue with SSO' }).click();
    // oidc-provider's own development login and consent pages.
    await page.waitForURL((address) => address.origin === idp.issuer);
    await page.locator('input[name="login"]').fill('browser-member');
    await page.locator('input[name="password"]').fill('any');
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]').click();
    await page.waitForURL((address) => address.origin === url);
    // The IdP's development pages fetch a web font from the internet (unreachable here): only
    // what the console logs once back counts.
    const back = problems.length;

    const me = await page.evaluate(async () => (await (await fetch('/api/v1/me')).json()) as { user: { email: string } });
    expect(me.user.email).toBe(memberEmail);
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    expect(problems.slice(back)).toEqual([]);
    await context.close();
  });
});
