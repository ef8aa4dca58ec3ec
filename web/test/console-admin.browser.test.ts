import { randomBytes } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiAs, chromiumAvailable, expectAccessible, openPage, signedUp, startConsole, type Console, signInThroughForm } from './browser.js';

/**
 * The console's administration pages in a real Chromium: API tokens (created with a path limit
 * and an expiry, shown once and copied, revoked), organization settings (rename, audit retention,
 * delete after typing the slug) and members (role changes to system and custom roles, removal);
 * a VIEWER is offered none of it. Every page passes axe.
 */
const password = 'correct horse battery staple';
let consoleUnderTest: Console;
// One organization for the whole file: sign-ups are rate-limited per address.
let fixture: Awaited<ReturnType<typeof organization>>;
const heading = (page: Page, name: string) => page.getByRole('heading', { level: 1, name });
const unique = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;

const signIn = (page: Page, email: string) => signInThroughForm(page, consoleUnderTest.url, email, password);

/** A fresh browser profile (see openPage), signed in as `email`. */
async function signedInPage(email: string) {
  const opened = await openPage(consoleUnderTest.browser);
  await signIn(opened.page, email);
  return opened;
}

/** A test's end: no console error on the way, then the browser profile closed. */
async function closeClean(context: BrowserContext, problems: string[]): Promise<void> {
  expect(problems).toEqual([]);
  await context.close();
}

/** An organization with a project and environment, its owner, a DEVELOPER, a VIEWER and a custom role. */
async function organization() {
  const url = consoleUnderTest.url;
  const org = unique('org');
  const emails = { owner: `${unique('owner')}@example.test`, developer: `${unique('dev')}@example.test`, viewer: `${unique('viewer')}@example.test` };
  const owner = await signedUp(url, emails.owner, password, 'Olga Owner');
  await owner('POST', '/orgs', { slug: org, name: 'Acme' });
  await owner('POST', `/orgs/${org}/projects`, { slug: 'shop' });
  await owner('POST', `/orgs/${org}/projects/shop/environments`, { slug: 'production', type: 'PRODUCTION' });
  await owner('POST', `/orgs/${org}/projects/shop/environments/production/variables`, { key: 'LOG_LEVEL', type: 'plain', value: 'debug' });
  await owner('POST', `/orgs/${org}/roles`, { name: 'engineer' });
  for (const [who, role, name] of [['developer', 'DEVELOPER', 'Dan Developer'], ['viewer', 'VIEWER', 'Vera Viewer']] as const) {
    const member = await signedUp(url, emails[who], password, name);
    const invitation = await owner('POST', `/orgs/${org}/invitations`, { email: emails[who], role });
    await member('POST', `/invitations/${invitation.token}/accept`);
  }
  return { org, emails, owner };
}

describe.runIf(chromiumAvailable())('the console administration pages in Chromium', () => {
  beforeAll(async () => {
    consoleUnderTest = await startConsole();
    fixture = await organization();
  }, 300_000);
  afterAll(() => consoleUnderTest?.close());

  it('creates an API token limited to a path with an expiry, shows it once with a copy button, lists it, and revokes it', async () => {
    const { org, emails } = fixture;
    const { context, page, problems } = await openPage(consoleUnderTest.browser, ['clipboard-read', 'clipboard-write']);
    await signIn(page, emails.owner);
    await page.getByRole('link', { name: 'API tokens' }).click();
    await heading(page, 'API tokens').waitFor();
    await page.getByText('No API tokens yet.').waitFor();
    await expectAccessible(page, 'api tokens');

    // A refusal names the field: a scope that does not exist.
    await page.getByLabel('Name').fill('ci-deploy');
    await page.getByLabel('Permissions').selectOption('chosen scopes');
    await page.getByLabel('Scopes').fill('nonsense:thing');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByRole('alert').waitFor();

    await page.getByLabel('Scopes').fill('secret:read');
    await page.getByLabel('Path limit').fill('shop/production');
    await page.getByLabel('Expires on').fill('2099-12-31');
    await page.getByRole('button', { name: 'Create token' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'shown only this once' });
    await notice.waitFor();
    const token = (await notice.locator('code').textContent()) ?? '';
    expect(token.length).toBeGreaterThan(20);
    await expectAccessible(page, 'api token created');
    await notice.getByRole('button', { name: 'Copy token' }).click();
    await notice.getByText('Copied.').waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(token);

    // The token works, within its path only.
    const bearer = apiAs(consoleUnderTest.url, token);
    const variables = await bearer('GET', `/orgs/${org}/projects/shop/environments/production/variables`);
    expect(variables.items.map((v: { key: string }) => v.key)).toEqual(['LOG_LEVEL']);

    const row = page.getByRole('row', { name: /ci-deploy/ });
    await row.waitFor();
    expect(await row.textContent()).toContain('secret:read');
    expect(await row.textContent()).toContain('shop/production');
    expect(await row.textContent()).not.toContain(token);
    await notice.getByRole('button', { name: 'Done, hide it' }).click();
    expect(await page.content()).not.toContain(token);

    // Revoking asks first; the token is refused from then on.
    await row.getByRole('button', { name: 'Revoke ci-deploy' }).focus();
    await page.keyboard.press('Enter');
    await row.getByRole('button', { name: 'Confirm revoking ci-deploy' }).click();
    await expect.poll(() => page.getByRole('row', { name: /ci-deploy/ }).count()).toBe(0);
    await expect(bearer('GET', `/orgs/${org}/projects/shop/environments/production/variables`)).rejects.toThrow(/answered 401/);
    expect(problems.filter((p) => !/status of 400/.test(p))).toEqual([]);
    await context.close();
  }, 120_000);

  it('renames the organization, sets its audit retention, and deletes it only after its slug is typed', async () => {
    const { emails, owner } = fixture;
    const org = unique('doomed');
    await owner('POST', '/orgs', { slug: org, name: 'Doomed' });
    const { context, page, problems } = await signedInPage(emails.owner);
    await page.getByLabel('Organization', { exact: true }).selectOption(org);
    await heading(page, 'Projects').waitFor();
    await page.getByRole('link', { name: 'Settings' }).click();
    await heading(page, 'Organization settings').waitFor();
    await expectAccessible(page, 'organization settings');

    await page.getByLabel('Organization name').fill('Doomed Renamed');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByRole('status').filter({ hasText: 'Name saved.' }).waitFor();
    await expect.poll(() => page.getByLabel('Organization', { exact: true }).locator('option:checked').textContent()).toBe('Doomed Renamed');

    await page.getByLabel('Keep audit events for (days)').fill('30');
    await page.getByRole('button', { name: 'Save retention' }).click();
    await page.getByRole('status').filter({ hasText: 'Audit retention saved.' }).waitFor();
    expect((await owner('GET', `/orgs/${org}`)).retention_days).toBe(30);
    await page.getByLabel('Keep audit events for (days)').fill('0');
    await page.getByRole('button', { name: 'Save retention' }).click();
    // The browser's own check (min 1) keeps the form from being sent.
    expect((await owner('GET', `/orgs/${org}`)).retention_days).toBe(30);

    const remove = page.getByRole('button', { name: 'Delete organization' });
    expect(await remove.isDisabled()).toBe(true);
    await page.getByLabel(`Type ${org} to confirm`).fill('not-the-slug');
    expect(await remove.isDisabled()).toBe(true);
    await page.getByLabel(`Type ${org} to confirm`).fill(org);
    await expectAccessible(page, 'organization delete confirmation');
    await remove.click();
    // Back to the owner's remaining organization; the deleted one is gone from the switcher.
    await heading(page, 'Projects').waitFor();
    expect(await page.getByLabel('Organization', { exact: true }).locator('option').allTextContents()).not.toContain('Doomed Renamed');
    await expect(owner('GET', `/orgs/${org}`)).rejects.toThrow(/answered 404/);
    await closeClean(context, problems);
  }, 120_000);

  it('changes a member to a custom role by name and back to a system role, then removes them', async () => {
    const { org, emails, owner } = fixture;
    const { context, page, problems } = await signedInPage(emails.owner);
    await page.getByRole('link', { name: 'Members' }).click();
    const row = page.getByRole('row', { name: /Dan Developer/ });
    await row.waitFor();
    await row.getByLabel('Role of Dan Developer').selectOption({ label: 'engineer' });
    await row.getByRole('button', { name: 'Change role of Dan Developer' }).click();
    await expect.poll(() => row.getByRole('cell').nth(1).textContent()).toBe('engineer');
    await expectAccessible(page, 'members with actions');
    await row.getByLabel('Role of Dan Developer').selectOption({ label: 'AUDITOR' });
    await row.getByRole('button', { name: 'Change role of Dan Developer' }).click();
    await expect.poll(() => row.getByRole('cell').nth(1).textContent()).toBe('AUDITOR');
    const members = await owner('GET', `/orgs/${org}/members`);
    expect(members.items.find((m: { email: string }) => m.email === emails.developer).role).toBe('AUDITOR');
    // The owner's own row offers no role change (ownership moves by transfer).
    expect(await page.getByRole('row', { name: /Olga Owner/ }).getByRole('button', { name: /^(Change role|Remove) / }).count()).toBe(0);

    await row.getByRole('button', { name: 'Remove Dan Developer' }).click();
    await row.getByRole('button', { name: 'Confirm removing Dan Developer' }).click();
    await expect.poll(() => page.getByRole('row', { name: /Dan Developer/ }).count()).toBe(0);
    expect((await owner('GET', `/orgs/${org}/members`)).items).toHaveLength(2);
    await closeClean(context, problems);
  }, 120_000);

  it('shows the history of a variable with the change of each plain version, and rolls back to version 1 as a new version', async () => {
    const { org, emails, owner } = fixture;
    const scope = `/orgs/${org}/projects/shop/environments/production/variables`;
    const variable = (await owner('GET', scope)).items.find((v: { key: string }) => v.key === 'LOG_LEVEL');
    await owner('PATCH', `${scope}/${variable.id}`, { value: 'info' });
    await owner('PATCH', `${scope}/${variable.id}`, { value: 'warn' });
    const { context, page, problems } = await signedInPage(emails.owner);
    await page.goto(`${consoleUnderTest.url}${scope}`);
    const row = page.getByRole('row', { name: /LOG_LEVEL/ });
    await expect.poll(() => row.getByRole('cell').nth(1).textContent()).toBe('warn');
    await row.getByRole('button', { name: 'History of LOG_LEVEL' }).focus();
    await page.keyboard.press('Enter');
    const history = page.getByRole('table', { name: /Versions of LOG_LEVEL/ });
    await history.waitFor();
    expect(await page.evaluate<string>('document.activeElement.textContent')).toBe('History of LOG_LEVEL');
    await expect.poll(() => history.getByRole('row', { name: /^3 / }).textContent()).toContain('info → warn');
    expect(await history.getByRole('row', { name: /^1 / }).textContent()).toContain('created');
    // The newest version is the current one: nothing to roll back to there.
    expect(await history.getByRole('row', { name: /^3 / }).getByRole('button').count()).toBe(0);
    await expectAccessible(page, 'variable history');

    await history.getByRole('button', { name: 'Roll back to version 1' }).click();
    await expect.poll(() => history.getByRole('row', { name: /^4 / }).textContent()).toContain('(from version 1)');
    expect(await history.getByRole('row', { name: /^4 / }).textContent()).toContain('warn → debug');
    await expect.poll(() => row.getByRole('cell').nth(1).textContent()).toBe('debug');
    expect(await row.getByRole('cell').nth(3).textContent()).toBe('4');
    expect((await owner('GET', `${scope}/${variable.id}`)).value).toBe('debug');
    await page.getByRole('button', { name: 'Close history' }).click();
    expect(await history.count()).toBe(0);
    await closeClean(context, problems);
  }, 120_000);

  it('offers a VIEWER no API tokens, no settings forms, and no member actions', async () => {
    const { org, emails } = fixture;
    const { context, page, problems } = await signedInPage(emails.viewer);
    await page.waitForLoadState('networkidle');
    expect(await page.getByRole('link', { name: 'API tokens' }).count()).toBe(0);
    await page.goto(`${consoleUnderTest.url}/orgs/${org}/tokens`);
    await page.getByText('needs the token:manage permission').waitFor();
    expect(await page.getByRole('button', { name: 'Create token' }).count()).toBe(0);

    await page.getByRole('link', { name: 'Settings' }).click();
    await heading(page, 'Organization settings').waitFor();
    await expect.poll(() => page.locator('dd').first().textContent()).toBe('Acme');
    await page.waitForLoadState('networkidle');
    expect(await page.getByRole('button').filter({ hasText: /^(Save|Delete|Transfer)/ }).count()).toBe(0);
    await expectAccessible(page, 'organization settings as a viewer');

    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('row', { name: /Vera Viewer/ }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(await page.getByRole('button', { name: /^(Change role|Remove) / }).count()).toBe(0);
    expect(await page.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0);

    // The history of a variable is readable; rolling back is not offered.
    await page.goto(`${consoleUnderTest.url}/orgs/${org}/projects/shop/environments/production/variables`);
    await page.getByRole('button', { name: 'History of LOG_LEVEL' }).click();
    await page.getByRole('table', { name: /Versions of LOG_LEVEL/ }).getByRole('row', { name: /^1 / }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(await page.getByRole('button', { name: /^Roll back/ }).count()).toBe(0);
    await closeClean(context, problems);
  }, 120_000);
  it('lets the OWNER (only) transfer ownership to another member after a confirmation, and become ADMIN', async () => {
    const { org, emails, owner } = fixture;
    const { context, page, problems } = await signedInPage(emails.owner);
    await page.goto(`${consoleUnderTest.url}/orgs/${org}/settings`);
    await heading(page, 'Organization settings').waitFor();
    await page.getByLabel('New owner').selectOption({ label: `Vera Viewer (${emails.viewer})` });
    await page.getByRole('button', { name: 'Transfer ownership' }).click();
    await expectAccessible(page, 'transfer ownership');
    await page.getByRole('button', { name: 'Confirm making Vera Viewer the owner' }).click();
    await page.getByRole('status').filter({ hasText: 'Ownership transferred.' }).waitFor();
    const roles = Object.fromEntries((await owner('GET', `/orgs/${org}/members`)).items.map((m: { email: string; role: string }) => [m.email, m.role]));
    expect(roles).toEqual({ [emails.owner]: 'ADMIN', [emails.viewer]: 'OWNER' });
    // No longer the owner: the transfer is no longer offered.
    await expect.poll(() => page.getByRole('group', { name: 'Transfer ownership' }).count()).toBe(0);
    await closeClean(context, problems);
  }, 120_000);
});
