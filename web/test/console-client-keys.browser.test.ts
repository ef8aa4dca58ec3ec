import { randomBytes } from 'node:crypto';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjectKey, decryptValue, encryptValue } from '../../src/cli/client-keys.js';
import { chromiumAvailable, expectAccessible, openPage, signedUp, signInThroughForm, startConsole, type Console } from './browser.js';

/**
 * A client-managed project (issue #13) in a real Chromium: the project and its values made with
 * the CLI's own crypto, then the console unlocks it with the passphrase (Argon2id in the page,
 * its time printed, never asserted), decrypts and expands values, writes one the CLI reads back,
 * forgets the key on reload, and never sends the passphrase anywhere.
 */
const password = 'correct horse battery staple';
const PASSPHRASE = `vault passphrase ${randomBytes(6).toString('hex')}`;
const SECRET = 'tok-canary-7f3a1c';
let consoleUnderTest: Console;
let fixture: { org: string; email: string; call: Awaited<ReturnType<typeof signedUp>>; key: Buffer; ids: { organizationId: string; projectId: string; environmentId: string } };
// A loaded machine re-renders slowly: wait for what the page should show, with room (nothing is timed).
const poll = <T,>(read: () => Promise<T>) => expect.poll(read, { timeout: 30_000 });
const unique = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;
const valueOf = (page: Page, key: string) => page.getByRole('row', { name: new RegExp(`^${key}\\b`) }).getByTestId('value');

describe.runIf(chromiumAvailable())('a client-managed project in the console (Chromium)', () => {
  beforeAll(async () => {
    consoleUnderTest = await startConsole();
    const org = unique('org');
    const email = `${unique('owner')}@example.test`;
    const call = await signedUp(consoleUnderTest.url, email, password, 'Cleo Client');
    await call('POST', '/orgs', { slug: org, name: 'Acme' });
    const { key, wrapped } = await createProjectKey(PASSPHRASE, null);
    const project = await call('POST', `/orgs/${org}/projects`, { slug: 'vault', encryption: 'client', client_key: wrapped });
    const environment = await call('POST', `/orgs/${org}/projects/vault/environments`, { slug: 'dev', type: 'DEVELOPMENT' });
    const { organization_id: organizationId } = await call('GET', `/orgs/${org}/projects/vault/key`);
    const ids = { organizationId, projectId: project.id as string, environmentId: environment.id as string };
    const seal = (text: string, keyName: string, scope: Parameters<typeof encryptValue>[2]['scope']) => encryptValue(key, text, { organizationId, projectId: ids.projectId, scope, key: keyName, version: 1, keyVersion: 1 });
    await call('POST', `/orgs/${org}/projects/vault/variables`, { key: 'HOST', value: seal('db.internal', 'HOST', { level: 'project' }), version: 1 });
    const env = `/orgs/${org}/projects/vault/environments/dev/variables`;
    await call('POST', env, { key: 'DATABASE_URL', value: seal('postgres://${HOST}/app', 'DATABASE_URL', { level: 'environment', id: ids.environmentId }), version: 1 });
    await call('POST', env, { key: 'API_TOKEN', type: 'secret', value: seal(SECRET, 'API_TOKEN', { level: 'environment', id: ids.environmentId }), version: 1 });
    fixture = { org, email, call, key, ids };
  }, 300_000);
  afterAll(() => consoleUnderTest?.close());

  it('unlocks with the passphrase, decrypts and expands in the page, writes what the CLI reads, and forgets the key on reload', async () => {
    const { org, email, call, key, ids } = fixture;
    const { page, problems, context } = await openPage(consoleUnderTest.browser);
    const sent: Request[] = [];
    page.on('request', (request) => sent.push(request));
    await signInThroughForm(page, consoleUnderTest.url, email, password);
    const envPage = `${consoleUnderTest.url}/orgs/${org}/projects/vault/environments/dev/variables`;
    await page.goto(envPage);
    await page.getByRole('heading', { level: 2, name: 'Client-managed encryption' }).waitFor();
    await poll(() => valueOf(page, 'DATABASE_URL').textContent()).toBe('encrypted (unlock to read)');
    expect(await page.getByRole('button', { name: 'Add variable' }).count()).toBe(0);

    // A wrong passphrase: a clear error, still locked.
    await page.getByLabel('Project passphrase').fill('not the passphrase');
    await page.getByRole('button', { name: 'Unlock with passphrase' }).click();
    await poll(() => page.getByRole('alert').first().textContent()).toContain('Wrong passphrase for this project');
    await expectAccessible(page, 'client-managed wrong passphrase');

    await page.getByLabel('Project passphrase').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock with passphrase' }).click();
    const status = page.getByRole('status').filter({ hasText: 'Unlocked in this page' });
    await status.waitFor();
    const took = /in (\d+) ms/.exec((await status.textContent()) ?? '')?.[1];
    console.log(`Argon2id (hash-wasm, default parameters 19 MiB / 2 passes / 1 lane) + unwrap in Chromium, first unlock (hash-wasm compiles its WebAssembly then; the key fetch is not counted): ${took} ms`);
    await poll(() => valueOf(page, 'DATABASE_URL').textContent()).toBe('postgres://${HOST}/app');
    expect(await valueOf(page, 'API_TOKEN').textContent()).toBe('********');
    await page.getByRole('button', { name: 'Reveal API_TOKEN' }).click();
    await poll(() => valueOf(page, 'API_TOKEN').textContent()).toBe(SECRET);
    await expectAccessible(page, 'client-managed variables unlocked');

    // Written from the page: encrypted here, bound to its place and version; the CLI's code reads it back.
    await page.getByRole('button', { name: 'Add variable' }).click();
    await page.getByLabel('Key', { exact: true }).fill('MADE_IN_BROWSER');
    await page.getByLabel('Value').fill('hello from ${HOST}');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await poll(() => valueOf(page, 'MADE_IN_BROWSER').textContent()).toBe('hello from ${HOST}');
    const listed = await call('GET', `/orgs/${org}/projects/vault/environments/dev/variables`);
    const made = listed.items.find((v: { key: string }) => v.key === 'MADE_IN_BROWSER');
    expect(made.value).toMatch(/^cfr-cmk:v1:1:/);
    const where = { ...ids, scope: { level: 'environment' as const, id: ids.environmentId } };
    expect(decryptValue(key, made.value, { ...where, key: 'MADE_IN_BROWSER', version: 1 }, 1)).toBe('hello from ${HOST}');
    expect(() => decryptValue(key, made.value, { ...where, key: 'DATABASE_URL', version: 1 }, 1)).toThrow(/does not decrypt/);
    // Edited: a new version, bound to version 2.
    await page.getByRole('button', { name: 'Edit MADE_IN_BROWSER' }).click();
    expect(await page.getByLabel('Value').inputValue()).toBe('hello from ${HOST}');
    await page.getByLabel('Value').fill('edited in the browser');
    await page.getByRole('button', { name: 'Save' }).click();
    await poll(() => valueOf(page, 'MADE_IN_BROWSER').textContent()).toBe('edited in the browser');
    const edited = (await call('GET', `/orgs/${org}/projects/vault/environments/dev/variables`)).items.find((v: { key: string }) => v.key === 'MADE_IN_BROWSER');
    expect(edited.version).toBe(2);
    expect(decryptValue(key, edited.value, { ...where, key: 'MADE_IN_BROWSER', version: 2 }, 1)).toBe('edited in the browser');

    // The effective configuration, reached in the page (the key stays in memory): decrypted, references expanded.
    await page.getByRole('link', { name: 'Effective configuration' }).click();
    await page.getByRole('heading', { level: 1, name: 'Effective configuration of environment dev' }).waitFor();
    await poll(() => valueOf(page, 'DATABASE_URL').textContent()).toBe('postgres://db.internal/app');
    expect(await valueOf(page, 'MADE_IN_BROWSER').textContent()).toBe('edited in the browser');
    expect(await valueOf(page, 'API_TOKEN').textContent()).toBe('********');
    await expectAccessible(page, 'client-managed effective configuration unlocked');

    // Lock forgets it; so does a reload.
    await page.getByRole('button', { name: 'Lock' }).click();
    await page.getByRole('button', { name: 'Unlock with passphrase' }).waitFor();
    expect(await page.content()).not.toContain('db.internal/app');
    await page.getByLabel('Project passphrase').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock with passphrase' }).click();
    await poll(() => valueOf(page, 'DATABASE_URL').textContent()).toBe('postgres://db.internal/app');
    console.log(`Argon2id + unwrap in Chromium, second unlock: ${/in (\d+) ms/.exec((await status.textContent()) ?? '')?.[1]} ms`);
    await page.goto(envPage);
    await page.getByRole('button', { name: 'Unlock with passphrase' }).waitFor();
    await poll(() => valueOf(page, 'DATABASE_URL').textContent()).toBe('encrypted (unlock to read)');
    const html = await page.content();
    for (const clear of [SECRET, 'db.internal', 'edited in the browser']) expect(html).not.toContain(clear);

    // The passphrase went nowhere: no request URL, header or body held it, and nothing was stored.
    for (const request of sent) {
      const headers = JSON.stringify(await request.allHeaders());
      for (const text of [request.url(), headers, request.postData() ?? '']) expect(text).not.toContain(PASSPHRASE);
    }
    const stored = await page.evaluate<{ local: string; session: string; databases: number }>(`(async () => ({
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
      databases: (await indexedDB.databases()).length,
    }))()`);
    expect(stored.local).not.toContain(PASSPHRASE);
    expect(stored.session).not.toContain(PASSPHRASE);
    expect(stored.databases).toBe(0);
    expect(problems.filter((p) => !/status of 4\d\d/.test(p))).toEqual([]);
    await context.close();
  }, 240_000);
});
