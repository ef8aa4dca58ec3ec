import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from '../../test/fixtures/dns-server.js';
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
let dns: Awaited<ReturnType<typeof startDnsServer>>;

describe.runIf(chromiumAvailable())('SSO sign-in in Chromium', () => {
  beforeAll(async () => {
    // Domain verification asks this DNS server, on a loopback port, instead of the internet.
    dns = await startDnsServer();
    consoleUnderTest = await startConsole({ COFFER_DNS_SERVERS: dns.address });
    idp = await startIdp(`${consoleUnderTest.url}/api/v1/auth/sso/callback`);
  }, 300_000);
  afterAll(async () => {
    await idp?.close();
    await consoleUnderTest?.close();
    await dns?.close();
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
  }, 120_000);

  it('brings a refused sign-in back to the sign-in page, saying why, accessibly', async () => {
    const { url } = consoleUnderTest;
    const suffix = randomBytes(4).toString('hex');
    const org = `sso-refused-${suffix}`;
    const owner = await signedUp(url, `owner-${suffix}@example.test`, password, 'Owner');
    await owner('POST', '/orgs', { slug: org });
    await owner('POST', `/orgs/${org}/sso/providers`, { type: 'oidc', name: 'Test IdP', issuer: idp.issuer, client_id: 'coffer', client_secret: idp.clientSecret });
    // Known to the IdP, but neither a member nor of a verified domain.
    const outsiderEmail = `outsider-${suffix}@example.test`;
    idp.addAccount('browser-outsider', outsiderEmail);

    const { context, page, problems } = await openPage(consoleUnderTest.browser);
    await page.goto(`${url}/signin`);
    await page.getByLabel('Organization').fill(org);
    await page.getByRole('button', { name: 'Continue with SSO' }).click();
    await page.waitForURL((address) => address.origin === idp.issuer);
    await page.locator('input[name="login"]').fill('browser-outsider');
    await page.locator('input[name="password"]').fill('any');
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]').click();
    await page.waitForURL((address) => address.origin === url && address.pathname === '/signin');
    const back = problems.length;
    expect(new URL(page.url()).searchParams.get('sso_error')).toBe('FORBIDDEN');
    expect(page.url()).not.toContain('outsider');
    const alert = page.locator('#sso-refusal');
    await expect.poll(() => alert.textContent()).toContain(`${outsiderEmail} is not a member of this organization`);
    expect(await alert.getAttribute('role')).toBe('alert');
    await expectAccessible(page, 'sso refusal');
    // The message was read once: a reload shows the generic words for the code, not the email.
    await page.reload();
    await expect.poll(() => alert.textContent()).toContain('did not let you into this organization');
    expect(await alert.textContent()).not.toContain(outsiderEmail);
    expect(await page.evaluate(async () => (await fetch('/api/v1/me')).status)).toBe(401);
    expect(problems.slice(back).filter((p) => !/status of 401/.test(p))).toEqual([]);
    await context.close();
  }, 120_000);

  it('finds single sign-on from a work email: a verified domain, several providers to choose from, the person provisioned', async () => {
    const { url } = consoleUnderTest;
    const suffix = randomBytes(4).toString('hex');
    const org = `sso-domain-${suffix}`;
    const domain = `corp-${suffix}.example.test`;
    const owner = await signedUp(url, `owner-${suffix}@example.test`, password, 'Owner');
    await owner('POST', '/orgs', { slug: org });
    await owner('POST', `/orgs/${org}/sso/providers`, { type: 'oidc', name: 'Test IdP', issuer: idp.issuer, client_id: 'coffer', client_secret: idp.clientSecret });
    await owner('POST', `/orgs/${org}/sso/providers`, { type: 'oidc', name: 'Backup IdP', issuer: idp.issuer, client_id: 'coffer', client_secret: idp.clientSecret });
    const added = await owner('POST', `/orgs/${org}/sso/domains`, { domain });
    dns.setTxt(added.txt_record.name, added.txt_record.value);
    await owner('POST', `/orgs/${org}/sso/domains/${added.id}/verify`);
    // Nobody at Coffer yet: the first sign-in provisions the account (the domain is verified).
    const newcomer = `ada@${domain}`;
    idp.addAccount('browser-newcomer', newcomer);

    const { context, page, problems } = await openPage(consoleUnderTest.browser);
    await page.goto(`${url}/signin`);
    const entry = page.getByLabel('Work email or organization');
    await entry.fill(`someone@unclaimed-${suffix}.example.test`);
    await page.getByRole('button', { name: 'Continue with SSO' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain(`Single sign-on for email domain unclaimed-${suffix}.example.test not found`);

    await entry.fill(newcomer);
    await page.getByRole('button', { name: 'Continue with SSO' }).click();
    const choices = page.getByRole('list', { name: 'Identity providers' });
    await choices.waitFor();
    expect(await choices.getByRole('link').allTextContents()).toEqual(['Sign in with Test IdP', 'Sign in with Backup IdP']);
    await expectAccessible(page, 'sso by email domain');
    await choices.getByRole('link', { name: 'Sign in with Test IdP' }).click();
    await page.waitForURL((address) => address.origin === idp.issuer);
    await page.locator('input[name="login"]').fill('browser-newcomer');
    await page.locator('input[name="password"]').fill('any');
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]').click();
    await page.waitForURL((address) => address.origin === url);
    const back = problems.length;
    const me = await page.evaluate(async () => (await (await fetch('/api/v1/me')).json()) as { user: { email: string } });
    expect(me.user.email).toBe(newcomer);
    const members = await owner('GET', `/orgs/${org}/members`);
    expect(members.items.map((m: { email: string }) => m.email)).toContain(newcomer);
    expect(problems.slice(back)).toEqual([]);
    await context.close();
  }, 120_000);
});
