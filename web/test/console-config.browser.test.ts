import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, expectAccessible, openPage, signedUp, startConsole, type Console, signInThroughForm } from './browser.js';

/**
 * The effective configuration page in a real Chromium: which scope won each key and what it
 * overrides, references and built-ins, seed 002's organization → project → member pg_service
 * precedence (resolving on a member's behalf), downloads in each format, and a secret that
 * shows only once revealed, only in its cell.
 */
const password = 'correct horse battery staple';
const canary = `canary-${randomBytes(12).toString('hex')}`;
let consoleUnderTest: Console;
const heading = (page: Page, name: string) => page.getByRole('heading', { level: 1, name });
const unique = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;

const signIn = (page: Page, email: string) => signInThroughForm(page, consoleUnderTest.url, email, password);

describe.runIf(chromiumAvailable())('the effective configuration page in Chromium', () => {
  beforeAll(async () => {
    consoleUnderTest = await startConsole();
  }, 300_000);
  afterAll(() => consoleUnderTest?.close());

  it('shows seed 002 precedence (organization < project < member pg_service), overrides, references, built-ins and downloads; the canary only once revealed', async () => {
    const url = consoleUnderTest.url;
    const org = unique('qfield');
    const emails = { owner: `${unique('owner')}@example.test`, alice: `${unique('alice')}@example.test` };
    const owner = await signedUp(url, emails.owner, password, 'Olga Owner');
    const alice = await signedUp(url, emails.alice, password, 'Alice Ninja');
    await owner('POST', '/orgs', { slug: org, name: 'QField' });
    await owner('POST', `/orgs/${org}/projects`, { slug: 'survey' });
    await owner('POST', `/orgs/${org}/projects/survey/environments`, { slug: 'production', type: 'PRODUCTION' });
    const env = `/orgs/${org}/projects/survey/environments/production`;
    await owner('POST', `${env}/services`, { slug: 'qgis', kind: 'application', outputs: { url: 'https://qgis.internal' } });
    const invitation = await owner('POST', `/orgs/${org}/invitations`, { email: emails.alice, role: 'DEVOPS' });
    await alice('POST', `/invitations/${invitation.token}/accept`);
    const aliceId = (await alice('GET', '/me')).user.id;
    // Seed 002: the organization's low-privilege role, the project's, and one user's own.
    await owner('POST', `/orgs/${org}/variables`, { type: 'pg_service', value: '[ninja]\nhost=db.example.test\ndbname=db-og-secrets\nuser=ninja_org\npassword=your_strong_password_for_org\n' });
    await owner('POST', `/orgs/${org}/projects/survey/variables`, { type: 'pg_service', pg_service: { service: 'ninja', host: 'db.example.test', dbname: 'db-og-secrets', user: 'ninja_project', password: 'your_strong_password_for_project' } });
    await owner('POST', `/orgs/${org}/projects/survey/variables`, { type: 'pg_service', pg_service: { service: 'ninja', host: 'db.example.test', dbname: 'db-og-secrets', user: 'ninja_user', password: 'strong_password_for_user_001' }, assignee_user_id: aliceId });
    await owner('POST', `/orgs/${org}/variables`, { key: 'LEVEL', value: 'organization' });
    await owner('POST', `${env}/variables`, { key: 'LEVEL', value: 'environment' });
    await owner('POST', `${env}/services/qgis/variables`, { key: 'API_KEY', type: 'secret', value: canary });
    await owner('POST', `${env}/variables`, { key: 'GREETING', value: 'level ${LEVEL} at ${COFFER_APPLICATION_QGIS_URL}' });

    const { page, problems, context } = await openPage(consoleUnderTest.browser);
    await signIn(page, emails.owner);
    await page.goto(`${url}${env}`);
    await page.getByRole('link', { name: 'Effective configuration of qgis' }).click();
    await heading(page, 'Effective configuration of service qgis').waitFor();
    const variables = page.getByRole('table', { name: 'Resolved variables' });
    const level = variables.getByRole('row', { name: /^LEVEL/ });
    await level.waitFor();
    // Which scope won, and what it overrides.
    expect(await level.getByRole('cell').nth(0).textContent()).toBe('environment');
    expect(await level.getByRole('cell').nth(2).textContent()).toBe('environment');
    expect(await level.getByRole('cell').nth(3).textContent()).toBe('organization');
    // References, expanded.
    const greeting = variables.getByRole('row', { name: /^GREETING/ });
    expect(await greeting.getByRole('cell').nth(0).textContent()).toBe('level environment at https://qgis.internal');
    expect(await greeting.getByRole('cell').nth(4).textContent()).toContain('${LEVEL}');
    // Built-ins, listed apart.
    await page.getByRole('table', { name: 'Built-in variables from service outputs' }).getByRole('row', { name: /COFFER_APPLICATION_QGIS_URL/ }).waitFor();
    // pg_service as the owner: the project's entry wins over the organization's.
    const ninja = page.getByRole('table', { name: 'Resolved pg_service entries' }).getByRole('row', { name: /ninja/ });
    expect(await ninja.getByRole('cell').nth(1).textContent()).toBe('project');
    expect(await ninja.getByRole('cell').nth(2).textContent()).toBe('organization');
    expect(await ninja.textContent()).not.toContain('ninja_project');
    await page.getByText('Nothing is left out for you.').waitFor();
    // Not revealed: the canary is nowhere in the page.
    expect(await page.content()).not.toContain(canary);
    expect(await page.content()).not.toContain('your_strong_password');
    await expectAccessible(page, 'effective configuration');

    // On Alice's behalf: her own entry wins over the project's and the organization's.
    await page.getByLabel('Resolve as').selectOption({ label: `Alice Ninja (${emails.alice})` });
    await expect.poll(() => ninja.getByRole('cell').nth(1).textContent()).toBe('member');
    expect(await ninja.getByRole('cell').nth(2).textContent()).toBe('project, organization');
    await ninja.getByRole('button', { name: 'Reveal ninja' }).click();
    await expect.poll(() => ninja.textContent()).toContain('user=ninja_user');
    await expectAccessible(page, 'effective configuration as a member');
    await ninja.getByRole('button', { name: 'Hide ninja' }).click();
    await page.getByLabel('Resolve as').selectOption({ label: 'Me' });
    await expect.poll(() => ninja.getByRole('cell').nth(1).textContent()).toBe('project');

    // Downloads, in each format, through the same resolution route.
    const saved: Record<string, string> = {};
    for (const format of ['dotenv', 'json', 'yaml', 'shell', 'pg_service']) {
      const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Download as ${format}` }).click()]);
      saved[format] = fs.readFileSync((await file.path())!, 'utf8');
    }
    expect(saved.dotenv).toContain("LEVEL='environment'");
    expect(saved.dotenv).toContain(`API_KEY='${canary}'`);
    expect(JSON.parse(saved.json!).variables.find((v: { key: string }) => v.key === 'GREETING').value).toBe('level environment at https://qgis.internal');
    expect(saved.yaml).toContain('"LEVEL": "environment"');
    expect(saved.shell).toContain("export LEVEL='environment'");
    expect(saved.pg_service).toContain('[ninja]');
    expect(saved.pg_service).toContain('user=ninja_project');
    // Downloaded, yet still not in the page.
    expect(await page.content()).not.toContain(canary);

    // Revealed: in its cell, and nowhere else.
    const apiKey = variables.getByRole('row', { name: /^API_KEY/ });
    expect(await apiKey.textContent()).not.toContain(canary);
    await apiKey.getByRole('button', { name: 'Reveal API_KEY' }).click();
    await expect.poll(() => apiKey.getByTestId('value').textContent()).toBe(canary);
    expect((await page.content()).split(canary).length - 1).toBe(1);
    const storage = await page.evaluate<string>('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })');
    expect(storage).not.toContain(canary);
    await apiKey.getByRole('button', { name: 'Hide API_KEY' }).click();
    await expect.poll(async () => (await page.content()).includes(canary)).toBe(false);
    expect(problems).toEqual([]);
    await context.close();
  }, 180_000);
});
