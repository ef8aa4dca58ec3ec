import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, expectAccessible, openPage, signedUp, startConsole, type Console, signInThroughForm } from './browser.js';

/**
 * The variables page in a real Chromium: pg_service entries through seed 002's simple form and
 * its advanced pg_service.conf editor (the API's refusal names the line), bulk paste of a .env
 * file, "my overrides" (member-assigned variables), and a 1,000-row table filtered in the page
 * (the time it takes is printed, never asserted).
 */
const password = 'correct horse battery staple';
let consoleUnderTest: Console;
let fixture: { org: string; email: string; owner: ReturnType<typeof Object> };
const heading = (page: Page, name: string) => page.getByRole('heading', { level: 1, name });
const unique = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;

const signIn = (page: Page, email: string) => signInThroughForm(page, consoleUnderTest.url, email, password);

describe.runIf(chromiumAvailable())('the variables page in Chromium', () => {
  beforeAll(async () => {
    consoleUnderTest = await startConsole();
    const org = unique('org');
    const email = `${unique('owner')}@example.test`;
    const owner = await signedUp(consoleUnderTest.url, email, password, 'Olga Owner');
    await owner('POST', '/orgs', { slug: org, name: 'Acme' });
    await owner('POST', `/orgs/${org}/projects`, { slug: 'survey' });
    await owner('POST', `/orgs/${org}/projects/survey/environments`, { slug: 'dev', type: 'DEVELOPMENT' });
    fixture = { org, email, owner };
  }, 300_000);
  afterAll(() => consoleUnderTest?.close());

  it('adds pg_service entries with the simple form and the advanced editor (a refusal names the line), and marks my overrides', async () => {
    const { org, email } = fixture;
    const { page, problems, context } = await openPage(consoleUnderTest.browser);
    await signIn(page, email);
    await page.goto(`${consoleUnderTest.url}/orgs/${org}/projects/survey/variables`);
    await heading(page, 'Variables of project survey').waitFor();

    await page.getByRole('button', { name: 'Add variable' }).click();
    await page.getByLabel('Type').selectOption('pg_service');
    await page.getByLabel('Service name').fill('ninja');
    await page.getByLabel('Database name').fill('db-og-secrets');
    await page.getByLabel('Database user').fill('ninja_project');
    await page.getByLabel('Database password').fill('pw-not-real-project');
    await page.getByLabel('Database host').fill('db.example.test');
    await page.getByLabel('Database port').fill('5432');
    await page.getByLabel('Database SSL mode').selectOption('require');
    await page.getByRole('button', { name: 'Add extra pgservice field' }).click();
    await page.getByLabel('Extra field 1 keyword').fill('application_name');
    await page.getByLabel('Extra field 1 value').fill('qfield');
    await expectAccessible(page, 'variables pg_service simple editor');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const ninja = page.getByRole('row', { name: /^ninja/ });
    await ninja.waitFor();
    expect(await ninja.getByRole('cell').nth(0).textContent()).toBe('pg_service');
    expect(await ninja.textContent()).not.toContain('pw-not-real-project');

    // The advanced editor: a line libpq would refuse is named by the API.
    await page.getByRole('button', { name: 'Add variable' }).click();
    await page.getByLabel('Type').selectOption('pg_service');
    await page.getByLabel('Advanced editor (pg_service.conf)').check();
    await page.getByLabel('pg_service.conf section').fill('[ninja_user]\nhost db.example.test\n');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('line 2');
    await expectAccessible(page, 'variables pg_service advanced editor');
    // Assigned to me: my override, winning over the project's entry for me only.
    await page.getByLabel('pg_service.conf section').fill('[ninja]\nhost=db.example.test\ndbname=db-og-secrets\nuser=ninja_user\npassword=pw-not-real-user\n');
    await page.getByLabel('For').selectOption({ label: `Me (${email})` });
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => page.getByRole('row', { name: /^ninja/ }).count()).toBe(2);
    await page.getByLabel('Only my overrides (assigned to me)').check();
    await expect.poll(() => page.getByRole('row', { name: /^ninja/ }).count()).toBe(1);
    expect(await page.getByRole('row', { name: /^ninja/ }).getByRole('cell').nth(5).textContent()).toBe('me');
    await expectAccessible(page, 'variables my overrides');
    expect(problems.filter((p) => !/status of 400/.test(p))).toEqual([]);
    await context.close();
  }, 180_000);

  it('imports a pasted .env file: new keys created, an existing key updated, values never shown back', async () => {
    const { org, email, owner } = fixture;
    const env = `/orgs/${org}/projects/survey/environments/dev`;
    await (owner as (m: string, r: string, b?: unknown) => Promise<unknown>)('POST', `${env}/variables`, { key: 'LOG_LEVEL', type: 'plain', value: 'debug' });
    const { page, problems, context } = await openPage(consoleUnderTest.browser);
    await signIn(page, email);
    await page.goto(`${consoleUnderTest.url}${env}/variables`);
    await page.getByRole('row', { name: /LOG_LEVEL/ }).waitFor();
    await page.getByRole('button', { name: 'Paste a .env file' }).click();
    await page.getByLabel('.env contents').fill("# pasted\nLOG_LEVEL=info\nexport API_URL='https://api.example.test'\nGREETING=\"hello\\nworld\"\n");
    await page.getByText('3 variables found: 2 new, 1 to update').waitFor();
    await expectAccessible(page, 'variables paste a .env file');
    await page.getByRole('button', { name: 'Import 3 variables' }).click();
    await page.getByRole('row', { name: /API_URL/ }).waitFor();
    await expect.poll(() => page.getByRole('row', { name: /LOG_LEVEL/ }).getByRole('cell').nth(1).textContent()).toBe('info');
    expect(await page.getByRole('row', { name: /LOG_LEVEL/ }).getByRole('cell').nth(3).textContent()).toBe('2');
    expect(await page.getByRole('row', { name: /GREETING/ }).getByRole('cell').nth(1).textContent()).toBe('hello\nworld');
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);

  it('filters a 1,000-row table in the page (time printed, not asserted)', async () => {
    const { org, email, owner } = fixture;
    const call = owner as (m: string, r: string, b?: unknown) => Promise<unknown>;
    await call('POST', `/orgs/${org}/projects/survey/environments`, { slug: 'big', type: 'DEVELOPMENT' });
    const env = `/orgs/${org}/projects/survey/environments/big`;
    const keys = Array.from({ length: 1000 }, (_, i) => `VAR_${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 10) {
      await Promise.all(keys.slice(i, i + 10).map((key) => call('POST', `${env}/variables`, { key, type: 'plain', value: `value-${key}` })));
    }
    const { page, problems, context } = await openPage(consoleUnderTest.browser);
    await signIn(page, email);
    const opened = Date.now();
    await page.goto(`${consoleUnderTest.url}${env}/variables`);
    await page.getByText('1000 of 1000 shown').waitFor({ timeout: 60_000 });
    const drawn = Date.now() - opened;
    // Typed into the field as an input event, timed in the page until the table has the rows it should.
    const filter = async (text: string, rows: number) =>
      page.evaluate<number>(`(async () => {
        const input = document.querySelector('input[type="search"]');
        const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
        const start = performance.now();
        setter.call(input, ${JSON.stringify(text)});
        input.dispatchEvent(new Event('input', { bubbles: true }));
        await new Promise((resolve) => {
          const check = () => (document.querySelectorAll('tbody tr').length === ${rows} ? resolve() : requestAnimationFrame(check));
          check();
        });
        return performance.now() - start;
      })()`);
    const narrow = await filter('var_099', 10);
    const widen = await filter('', 1000);
    const one = await filter('VAR_0500', 1);
    console.log(`1,000-row variables table: drawn ${drawn} ms after navigation; filter to 10 rows ${narrow.toFixed(1)} ms, back to 1,000 ${widen.toFixed(1)} ms, to 1 row ${one.toFixed(1)} ms`);
    expect(await page.getByRole('row', { name: /VAR_0500/ }).count()).toBe(1);
    await expectAccessible(page, 'variables 1000 rows filtered');
    expect(problems).toEqual([]);
    await context.close();
  }, 300_000);
});
