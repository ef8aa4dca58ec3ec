import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiAs, chromiumAvailable, expectAccessible, openPage, signedUp, startConsole, type Console, signInThroughForm } from './browser.js';

/**
 * Clusters, services with their outputs, rename, and delete with what the cascade removes
 * stated first; the same pages walked as a DEVELOPER and as a custom role limited to
 * DEVELOPMENT environments (what they may not do is not offered); and a secret canary that
 * shows nowhere (DOM, storage, console) until a permitted reveal, then only in its cell.
 */
const password = 'correct horse battery staple';
const canary = `canary-${randomBytes(12).toString('hex')}`;
let consoleUnderTest: Console;
let fixture: Awaited<ReturnType<typeof organization>>;
const heading = (page: Page, name: string) => page.getByRole('heading', { level: 1, name });
const unique = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;
type Caller = ReturnType<typeof apiAs>;

const signIn = (page: Page, email: string) => signInThroughForm(page, consoleUnderTest.url, email, password);

/** A fresh profile signed in as `email`, recording every console message too. */
async function signedInPage(email: string) {
  const opened = await openPage(consoleUnderTest.browser);
  const logged: string[] = [];
  opened.page.on('console', (message) => logged.push(message.text()));
  await signIn(opened.page, email);
  return { ...opened, logged };
}

/** An organization with production and development, a database service, a DEVELOPER and a DEVELOPMENT-only custom role. */
async function organization() {
  const url = consoleUnderTest.url;
  const org = unique('org');
  const emails = { owner: `${unique('owner')}@example.test`, developer: `${unique('dev')}@example.test`, limited: `${unique('limited')}@example.test` };
  const owner: Caller = await signedUp(url, emails.owner, password, 'Olga Owner');
  await owner('POST', '/orgs', { slug: org, name: 'Acme' });
  await owner('POST', `/orgs/${org}/projects`, { slug: 'shop' });
  const projectId = (await owner('GET', `/orgs/${org}/projects/shop`)).id;
  for (const [slug, type] of [['production', 'PRODUCTION'], ['development', 'DEVELOPMENT']]) {
    const env = `/orgs/${org}/projects/shop/environments/${slug}`;
    await owner('POST', `/orgs/${org}/projects/shop/environments`, { slug, type });
    await owner('POST', `${env}/services`, { slug: 'db', kind: 'database', outputs: { host: 'pg.internal', port: '5432', password: `pw-${randomBytes(8).toString('hex')}` } });
    await owner('POST', `${env}/services/db/variables`, { key: 'API_KEY', type: 'secret', value: `${canary}-${slug}` });
    await owner('POST', `${env}/variables`, { key: 'LOG_LEVEL', type: 'plain', value: 'debug' });
  }
  const role = await owner('POST', `/orgs/${org}/roles`, {
    name: 'dev-only',
    project_permissions: [{ project_id: projectId, is_admin: false, permissions: [{ environment_type: 'DEVELOPMENT', permission: 'MANAGER' }] }],
  });
  for (const [who, name] of [['developer', 'Dan Developer'], ['limited', 'Lee Limited']] as const) {
    const member: Caller = await signedUp(url, emails[who], password, name);
    const invitation = await owner('POST', `/orgs/${org}/invitations`, { email: emails[who], role: 'VIEWER' });
    await member('POST', `/invitations/${invitation.token}/accept`);
    const id = (await member('GET', '/me')).user.id;
    await owner('PATCH', `/orgs/${org}/members/${id}`, who === 'developer' ? { role: 'DEVELOPER' } : { role_id: role.id });
  }
  return { org, emails, owner };
}

describe.runIf(chromiumAvailable())('hierarchy pages and role walks in Chromium', () => {
  beforeAll(async () => {
    consoleUnderTest = await startConsole();
    fixture = await organization();
  }, 300_000);
  afterAll(() => consoleUnderTest?.close());

  it('creates, renames and deletes a cluster; shows service outputs masked; states what a delete removes before it is confirmed', async () => {
    const { org, emails, owner } = fixture;
    const { page, problems, context } = await signedInPage(emails.owner);
    await page.getByRole('link', { name: 'Clusters' }).click();
    await heading(page, 'Clusters').waitFor();
    await page.getByLabel('Name').fill('eu-main');
    await page.getByLabel('Region').fill('eu-west-3');
    await page.getByRole('button', { name: 'Create cluster' }).click();
    const cluster = page.getByRole('row', { name: /eu-main/ });
    await cluster.waitFor();
    await cluster.getByRole('button', { name: 'Rename cluster eu-main' }).click();
    await page.getByLabel('New name of cluster eu-main').fill('eu-primary');
    await page.getByRole('button', { name: 'Save name' }).click();
    const renamed = page.getByRole('row', { name: /eu-primary/ });
    await renamed.waitFor();
    await expectAccessible(page, 'clusters');
    await renamed.getByRole('button', { name: 'Delete cluster eu-primary' }).click();
    await renamed.getByRole('button', { name: 'Confirm deleting cluster eu-primary' }).click();
    await page.getByText('No clusters yet.').waitFor();

    // A throw-away environment: its service's outputs, masked where secret; deletes say what goes.
    await owner('POST', `/orgs/${org}/projects/shop/environments`, { slug: 'scratch', type: 'PREVIEW' });
    const scratch = `/orgs/${org}/projects/shop/environments/scratch`;
    await owner('POST', `${scratch}/services`, { slug: 'cache', kind: 'database', outputs: { host: 'redis.internal', password: `pw-${canary}` } });
    await owner('POST', `${scratch}/services/cache/variables`, { key: 'A', value: 'a' });
    await owner('POST', `${scratch}/variables`, { key: 'B', value: 'b' });
    await page.goto(`${consoleUnderTest.url}${scratch}`);
    await heading(page, 'Environment scratch').waitFor();
    const outputs = page.getByRole('definition').filter({ hasText: 'redis.internal' });
    await outputs.waitFor();
    expect(await page.getByLabel('Outputs of cache').textContent()).not.toContain(canary);
    await page.getByRole('button', { name: 'Rename service cache' }).click();
    await page.getByLabel('New name of service cache').fill('Cache store');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByLabel('Outputs of Cache store').waitFor();
    await page.getByRole('button', { name: 'Delete environment scratch' }).click();
    await page.getByText('Deleting environment scratch also removes 1 service and 2 variables (with their history).').waitFor();
    await expectAccessible(page, 'environment delete confirmation');
    await page.getByRole('button', { name: 'Keep it' }).click();
    await page.getByRole('button', { name: 'Delete service cache' }).click();
    await page.getByText('Deleting service cache also removes 1 variable (with their history).').waitFor();
    await page.getByRole('button', { name: 'Confirm deleting service cache' }).click();
    await page.getByText('No services yet.').waitFor();
    await page.getByRole('button', { name: 'Delete environment scratch' }).click();
    await page.getByText('Deleting environment scratch also removes 0 services and 1 variable (with their history).').waitFor();
    await page.getByRole('button', { name: 'Confirm deleting environment scratch' }).click();
    await heading(page, 'Project shop').waitFor();
    await expect.poll(() => page.getByRole('link', { name: 'scratch', exact: true }).count()).toBe(0);
    await expectAccessible(page, 'project with delete offered');
    expect(problems).toEqual([]);
    await context.close();
  }, 180_000);

  it('walks as a DEVELOPER: production is read-only and unresolvable, development may be managed and resolved', async () => {
    const { org, emails } = fixture;
    const { page, problems, context } = await signedInPage(emails.developer);
    const base = `${consoleUnderTest.url}/orgs/${org}/projects/shop`;
    await page.goto(`${base}/environments/production`);
    await page.getByLabel('Outputs of db').waitFor();
    await page.waitForLoadState('networkidle');
    expect(await page.getByRole('button', { name: /^(Rename|Delete) / }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Create service' }).count()).toBe(0);
    await page.goto(`${base}/environments/production/services/db/effective`);
    await page.getByText('Resolving here needs the permission to decrypt secrets').waitFor();
    await expectAccessible(page, 'effective configuration as a developer in production');
    await page.goto(`${base}/environments/production/variables`);
    await page.getByRole('row', { name: /LOG_LEVEL/ }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(await page.getByRole('button', { name: /^(Add variable|Paste a \.env file)$/ }).count()).toBe(0);

    await page.goto(`${base}/environments/development`);
    await page.getByRole('button', { name: 'Delete environment development' }).waitFor();
    await page.getByRole('button', { name: 'Create service' }).waitFor();
    // The project itself is not theirs to rename or delete.
    await page.goto(base);
    await page.getByRole('link', { name: 'development', exact: true }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(await page.getByRole('button', { name: /^(Rename|Delete) project/ }).count()).toBe(0);
    await page.goto(`${base}/environments/development/services/db/effective`);
    await page.getByRole('row', { name: /^API_KEY/ }).getByRole('button', { name: 'Reveal API_KEY' }).waitFor();
    await page.goto(`${consoleUnderTest.url}/orgs/${org}/clusters`);
    await heading(page, 'Clusters').waitFor();
    await page.waitForLoadState('networkidle');
    expect(await page.getByRole('button', { name: 'Create cluster' }).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  }, 180_000);

  it('walks as a custom role limited to DEVELOPMENT: production is absent, development is theirs', async () => {
    const { org, emails } = fixture;
    const { page, problems, context } = await signedInPage(emails.limited);
    const base = `${consoleUnderTest.url}/orgs/${org}/projects/shop`;
    await page.goto(base);
    await page.getByRole('link', { name: 'development', exact: true }).waitFor();
    expect(await page.getByRole('link', { name: 'production', exact: true }).count()).toBe(0);
    await page.goto(`${base}/environments/development/variables`);
    await page.getByRole('button', { name: 'Add variable' }).waitFor();
    await page.getByRole('button', { name: 'Paste a .env file' }).waitFor();
    await page.goto(`${base}/environments/development/services/db/effective`);
    await page.getByRole('row', { name: /^LOG_LEVEL/ }).waitFor();
    await expectAccessible(page, 'effective configuration as a development-only role');
    await page.goto(`${base}/environments/production/services/db/effective`);
    await page.getByText('Resolving here needs the permission to decrypt secrets').waitFor();
    await page.goto(`${base}/environments/production`);
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('button', { name: /^(Rename|Delete)/ }).count()).toBe(0);
    // A refused (404) request of a hidden place is logged by the browser: expected here.
    expect(problems.filter((p) => !/status of 404/.test(p))).toEqual([]);
    await context.close();
  }, 180_000);

  it('keeps the canary out of the DOM, storage and console log through a walk of the pages, until one permitted reveal shows it in its cell only', async () => {
    const { org, emails } = fixture;
    const { page, problems, context, logged } = await signedInPage(emails.owner);
    const base = `${consoleUnderTest.url}/orgs/${org}/projects/shop/environments/production`;
    const clean = async (where: string) => {
      expect(await page.content(), where).not.toContain(canary);
      const storage = await page.evaluate<string>('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })');
      expect(storage, where).not.toContain(canary);
    };
    for (const [path, ready] of [
      ['', 'Environment production'],
      ['/variables', 'Variables of environment production'],
      ['/services/db/variables', 'Variables of service db'],
      ['/services/db/effective', 'Effective configuration of service db'],
    ] as const) {
      await page.goto(`${base}${path}`);
      await page.getByText(ready).first().waitFor();
      await page.waitForLoadState('networkidle');
      await clean(path || 'environment');
    }
    await page.getByRole('row', { name: /^API_KEY/ }).waitFor();
    await clean('effective configuration, drawn');
    await page.goto(`${consoleUnderTest.url}/orgs/${org}/clusters`);
    await heading(page, 'Clusters').waitFor();
    await clean('clusters');

    await page.goto(`${base}/services/db/variables`);
    const row = page.getByRole('row', { name: /API_KEY/ });
    await row.getByRole('button', { name: 'Reveal API_KEY' }).click();
    await expect.poll(() => row.getByTestId('value').textContent()).toBe(`${canary}-production`);
    expect((await page.content()).split(canary).length - 1).toBe(1);
    const storage = await page.evaluate<string>('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })');
    expect(storage).not.toContain(canary);
    expect(logged.filter((line) => line.includes(canary))).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  }, 180_000);
});
