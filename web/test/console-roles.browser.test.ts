import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiAs, chromiumAvailable, expectAccessible, openPage, signedUp, startConsole, type Console } from './browser.js';

/**
 * The access pages in a real Chromium: the system roles' permission table from the action
 * catalogue, seed 001's custom role made through the matrix and through the JSON tab (equal by
 * the API), seed 004's per-environment sets as checkboxes.
 */
const password = 'correct horse battery staple';
// Seed 001's platformengineer.json as the seed prints it (a trailing comma included).
const SEED_001 = fs.readFileSync(new URL('./fixtures/seed-001-platformengineer.json.txt', import.meta.url), 'utf8');
const SEED_IDS = {
  eks: '2db7b314-5cd6-4754-98cb-c47cc2677777',
  production: 'a8ad0659-b8f2-4c83-ad77-092e97bb2222',
  console: '977bd069-20f7-4b24-bd95-28b44174cccc',
  marketing: '0ec9c393-b0c0-4406-9b04-af9823096666',
  posthog: '6e63eb6b-f384-4003-a52d-1e67b910bbbb',
  product: 'a74df42b-59f2-4ac1-a0df-970d53c99999',
};
let consoleUnderTest: Console;
const apiAsToken = (token: string) => apiAs(consoleUnderTest.url, token);
let fixture: Awaited<ReturnType<typeof organization>>;
const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { level: 1, name });
const unique = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;

async function signedInPage(email: string) {
  const opened = await openPage(consoleUnderTest.browser);
  await opened.page.goto(`${consoleUnderTest.url}/signin`);
  await opened.page.getByLabel('Email', { exact: true }).fill(email);
  await opened.page.getByLabel('Password').fill(password);
  await opened.page.getByRole('button', { name: 'Sign in' }).click();
  await heading(opened.page, 'Projects').waitFor();
  return opened;
}

async function closeClean(context: BrowserContext, problems: string[]): Promise<void> {
  expect(problems).toEqual([]);
  await context.close();
}

/** An organization holding seed 001's clusters and projects (and one environment), its owner and a VIEWER. */
async function organization() {
  const url = consoleUnderTest.url;
  const org = unique('roles');
  const emails = { owner: `${unique('owner')}@example.test`, viewer: `${unique('viewer')}@example.test` };
  const owner = await signedUp(url, emails.owner, password, 'Olga Owner');
  await owner('POST', '/orgs', { slug: org, name: 'Acme' });
  const ids: Record<keyof typeof SEED_IDS, string> = {
    eks: (await owner('POST', `/orgs/${org}/clusters`, { name: 'eks staging' })).id,
    production: (await owner('POST', `/orgs/${org}/clusters`, { name: 'production' })).id,
    console: (await owner('POST', `/orgs/${org}/projects`, { slug: 'console-v3', name: 'Console V3' })).id,
    marketing: (await owner('POST', `/orgs/${org}/projects`, { slug: 'marketing', name: 'Marketing' })).id,
    posthog: (await owner('POST', `/orgs/${org}/projects`, { slug: 'posthog', name: 'Posthog Analytics' })).id,
    product: (await owner('POST', `/orgs/${org}/projects`, { slug: 'product', name: 'Product' })).id,
  };
  await owner('POST', `/orgs/${org}/projects/product/environments`, { slug: 'production', type: 'PRODUCTION' });
  const viewer = await signedUp(url, emails.viewer, password, 'Vera Viewer');
  const invitation = await owner('POST', `/orgs/${org}/invitations`, { email: emails.viewer, role: 'VIEWER' });
  await viewer('POST', `/invitations/${invitation.token}/accept`);
  return { org, emails, owner, ids };
}

/** A role as the API reads it, without what differs between two roles of the same definition. */
function definition(role: Record<string, unknown>) {
  const { id: _id, created_at: _c, updated_at: _u, ...rest } = role;
  return rest;
}

describe.runIf(chromiumAvailable())('the console access pages (roles, Why?, member access, audit tools, token paths) in Chromium', () => {
  beforeAll(async () => {
    consoleUnderTest = await startConsole();
    fixture = await organization();
  }, 300_000);
  afterAll(() => consoleUnderTest?.close());

  it('shows the system roles with their permission table drawn from the action catalogue', async () => {
    const { owner, org, emails } = fixture;
    const { context, page, problems } = await signedInPage(emails.owner);
    await page.getByRole('link', { name: 'Roles' }).click();
    await heading(page, 'Roles').waitFor();
    const table = page.getByRole('table', { name: 'Permissions of the system roles' });
    await table.waitFor();
    const columns = await table.getByRole('columnheader').allTextContents();
    expect(columns).toEqual(['Action', 'OWNER', 'ADMIN', 'DEVOPS', 'BILLING_MANAGER', 'VIEWER', 'AUDITOR', 'DEVELOPER', 'MEMBER', 'API_USER']);
    const cells = async (action: string) => (await table.getByRole('row', { name: new RegExp(`^${action} `) }).getByRole('cell').allTextContents());
    expect(await cells('organization:delete')).toEqual(['yes', '—', '—', '—', '—', '—', '—', '—', '—']);
    expect((await cells('secret:write'))[6]).toBe('DEVELOPMENT, PREVIEW, STAGING');
    expect((await cells('secret:write'))[7]).toBe('DEVELOPMENT, PREVIEW');
    expect((await cells('audit:read'))[5]).toBe('yes');
    // Every action of the catalogue is a row, and the API's grants are what the cells say.
    const openapi = (await (await fetch(`${consoleUnderTest.url}/api/v1/openapi.json`)).json()) as { 'x-coffer-actions': unknown[] };
    expect(await table.getByRole('row').count()).toBe(openapi['x-coffer-actions'].length + 1);
    const developer = await owner('GET', `/orgs/${org}/roles/DEVELOPER`);
    expect(developer.grants.environments.PRODUCTION).not.toContain('secret:write');
    await expectAccessible(page, 'roles');
    await closeClean(context, problems);
  }, 120_000);

  it("creates seed 001's custom role through the matrix and through the JSON tab, and the API reads the two as equal", async () => {
    const { owner, org, emails, ids } = fixture;
    const { context, page, problems } = await signedInPage(emails.owner);
    await page.goto(`${consoleUnderTest.url}/orgs/${org}/roles`);
    await page.getByRole('link', { name: 'New custom role' }).click();
    await heading(page, 'New custom role').waitFor();
    await page.getByLabel('Role name').fill('Platform Engineers');
    await page.getByLabel('Description').fill('Role for all Platform Engineers');
    await page.getByLabel('Level on cluster eks staging').selectOption('ADMIN');
    await page.getByLabel('Level on cluster production').selectOption('ENV_CREATOR');
    await page.getByLabel('Admin of Console V3').check();
    expect(await page.getByLabel('PRODUCTION level in Console V3').isDisabled()).toBe(true);
    for (const project of ['Marketing', 'Product']) {
      for (const type of ['DEVELOPMENT', 'PREVIEW', 'STAGING', 'PRODUCTION']) await page.getByLabel(`${type} level in ${project}`).selectOption('VIEWER');
    }
    await expectAccessible(page, 'role editor matrix');
    await page.getByRole('button', { name: 'Save role' }).click();
    await heading(page, 'Role Platform Engineers').waitFor();
    const byMatrix = (await owner('GET', `/orgs/${org}/roles`)).items.find((r: { name: string }) => r.name === 'Platform Engineers');
    expect(byMatrix.project_permissions[0]).toEqual({ project_id: ids.console, project_name: 'Console V3', is_admin: true });

    // The JSON tab shows the body the API takes.
    await page.getByRole('tab', { name: 'JSON' }).click();
    const shown = JSON.parse(await page.getByLabel('Role JSON').inputValue());
    expect({ ...shown, system: false }).toEqual(definition(byMatrix));
    await expectAccessible(page, 'role editor json');

    // Deleted after a confirmation, then made again from the seed's JSON as it is printed.
    await page.getByRole('button', { name: 'Delete role' }).click();
    await page.getByRole('button', { name: 'Confirm deleting Platform Engineers' }).click();
    await heading(page, 'Roles').waitFor();
    await page.getByRole('link', { name: 'New custom role' }).click();
    await heading(page, 'New custom role').waitFor();
    await page.getByRole('tab', { name: 'JSON' }).click();
    // The seed's ids are another organization's: this organization's clusters and projects stand in.
    const seedText = Object.entries(SEED_IDS).reduce((text, [name, seedId]) => text.replaceAll(seedId, ids[name as keyof typeof ids]), SEED_001);
    expect(() => JSON.parse(seedText)).toThrow();
    await page.getByLabel('Role JSON').fill(seedText);
    await page.getByRole('button', { name: 'Save role from JSON' }).click();
    await heading(page, 'Role Platform Engineers').waitFor();
    const byJson = (await owner('GET', `/orgs/${org}/roles`)).items.find((r: { name: string }) => r.name === 'Platform Engineers');
    expect(byJson.id).not.toBe(byMatrix.id);
    expect(definition(byJson)).toEqual(definition(byMatrix));

    // The matrix reads the saved role back.
    expect(await page.getByLabel('Level on cluster eks staging').inputValue()).toBe('ADMIN');
    expect(await page.getByLabel('Admin of Console V3').isChecked()).toBe(true);
    expect(await page.getByLabel('STAGING level in Marketing').inputValue()).toBe('VIEWER');
    expect(await page.getByLabel('STAGING level in Posthog Analytics').inputValue()).toBe('NO_ACCESS');

    // JSON the API refuses: the server's message names the field.
    await page.getByRole('tab', { name: 'JSON' }).click();
    await page.getByLabel('Role JSON').fill('{"name": "Platform Engineers", "cluster_permissions": [{"cluster_id": "not-a-uuid", "permission": "ADMIN"}]}');
    await page.getByRole('button', { name: 'Save role from JSON' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/cluster_id/);
    await page.getByLabel('Role JSON').fill('{"name": ');
    await page.getByRole('button', { name: 'Save role from JSON' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/does not parse/);
    expect(definition((await owner('GET', `/orgs/${org}/roles/${byJson.id}`)))).toEqual(definition(byMatrix));
    await closeClean(context, problems.filter((p) => !/status of 400/.test(p)));
  }, 180_000);

  it("gives seed 004's permission sets per environment as checkboxes", async () => {
    const { owner, org, emails } = fixture;
    const role = await owner('POST', `/orgs/${org}/roles`, { name: unique('sets') });
    const { context, page, problems } = await signedInPage(emails.owner);
    await page.goto(`${consoleUnderTest.url}/orgs/${org}/roles/${role.id}`);
    await heading(page, `Role ${role.name}`).waitFor();
    await page.getByLabel('FULL_VISIBILITY on product/production').check();
    await page.getByLabel('TUNNEL on product/production').check();
    await page.getByRole('button', { name: 'Save role' }).click();
    await expect.poll(async () => (await owner('GET', `/orgs/${org}/roles/${role.id}`)).environment_permissions).toEqual([
      { environment_id: expect.any(String), environment_name: 'production', project_name: 'Product', permissions: ['FULL_VISIBILITY', 'TUNNEL'] },
    ]);
    await page.getByLabel('FULL_VISIBILITY on product/production').waitFor();
    expect(await page.getByLabel('TUNNEL on product/production').isChecked()).toBe(true);
    await page.getByLabel('TUNNEL on product/production').uncheck();
    await page.getByRole('button', { name: 'Save role' }).click();
    await expect.poll(async () => (await owner('GET', `/orgs/${org}/roles/${role.id}`)).environment_permissions[0].permissions).toEqual(['FULL_VISIBILITY']);
    await closeClean(context, problems);
  }, 120_000);

  it('explains why a member or a token may or may not do an action at a place, with the engine\'s reason', async () => {
    const { owner, org, emails } = fixture;
    await owner('POST', `/orgs/${org}/tokens`, { name: 'reader', scopes: ['secret:read'], path: 'product' });
    const { context, page, problems } = await signedInPage(emails.owner);
    await page.getByRole('link', { name: 'Why?' }).click();
    await heading(page, 'Why? Access explainer').waitFor();
    const explain = async (who: string, action: string, project?: string, env?: string) => {
      await page.getByLabel('Member or token').selectOption({ label: who });
      await page.getByLabel('Action').selectOption(action);
      await page.getByLabel('Project').selectOption(project ?? '');
      if (env) await page.getByLabel('Environment').selectOption(env);
      await page.getByRole('button', { name: 'Explain' }).click();
      const answer = page.getByRole('status').filter({ hasText: action });
      await expect.poll(() => answer.textContent()).toContain(`${who} · ${action} · ${[project, env].filter(Boolean).join('/') || 'the organization'}`);
      return (await answer.textContent()) ?? '';
    };
    const viewer = `Vera Viewer (${emails.viewer})`;
    expect(await explain(viewer, 'secret:read', 'product', 'production')).toMatch(/^Allowed.*Reason: .*VIEWER/);
    const denied = await explain(viewer, 'secret:write', 'product', 'production');
    expect(denied).toMatch(/^Denied/);
    const engine = await owner('POST', `/orgs/${org}/authz/check`, {
      principal: { user_id: (await owner('GET', `/orgs/${org}/members`)).items.find((m: { email: string }) => m.email === emails.viewer).user_id },
      action: 'secret:write',
      resource: 'product/production',
    });
    expect(denied).toContain(`Reason: ${engine.reason}`);
    expect(await explain('Token reader', 'secret:write', 'product')).toContain("lacks scope secret:write");
    expect(await explain('Token reader', 'secret:read', 'marketing')).toMatch(/^Denied.*outside the path product/);
    expect(await explain('Myself', 'organization:delete')).toMatch(/^Allowed/);
    await expectAccessible(page, 'why access explainer');
    await closeClean(context, problems);
  }, 120_000);

  it("shows a member's effective access per environment, as the engine answers it", async () => {
    const { emails } = fixture;
    const { context, page, problems } = await signedInPage(emails.owner);
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('button', { name: 'Access of Vera Viewer' }).click();
    const table = page.getByRole('table', { name: 'Effective access of Vera Viewer by environment' });
    const row = table.getByRole('row', { name: /product\/production/ });
    await row.waitFor();
    expect(await table.getByRole('columnheader').allTextContents()).toEqual(['Environment', 'Type', 'environment:read', 'secret:read', 'secret:decrypt', 'secret:write', 'deployment:trigger', 'environment:delete']);
    expect(await row.getByRole('cell').allTextContents()).toEqual(['PRODUCTION', 'yes', 'yes', 'no', 'no', 'no', 'no']);
    expect(await row.getByRole('cell').nth(4).getAttribute('title')).toMatch(/VIEWER/);
    await expectAccessible(page, 'member effective access');
    await page.getByRole('button', { name: 'Close access' }).click();
    expect(await table.count()).toBe(0);
    await closeClean(context, problems);
  }, 120_000);

  it('exports the audit events matching the filters as CSV and JSON lines, verifies the chain, and downloads a signed checkpoint', async () => {
    const { owner, org, emails } = fixture;
    for (const name of [unique('audited'), unique('audited')]) await owner('POST', `/orgs/${org}/roles`, { name });
    const { context, page, problems } = await signedInPage(emails.owner);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await heading(page, 'Audit log').waitFor();
    await page.getByLabel('Target type').fill('role');
    await page.getByLabel('Event type').fill('CREATE');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('event_type')).toBe('CREATE');
    await page.getByRole('row', { name: /Created custom role/ }).first().waitFor();

    const download = async (name: string) => {
      const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name }).click()]);
      return fs.readFileSync((await file.path())!, 'utf8');
    };
    const expected = (await owner('GET', `/orgs/${org}/audit-events?target_type=role&event_type=CREATE&limit=500`)).items;
    expect(expected.length).toBeGreaterThan(1);
    const lines = (await download('Download JSON lines')).trim().split('\n').map((line) => JSON.parse(line) as { id: string; target_type: string; event_type: string });
    expect(new Set(lines.map((e) => e.id))).toEqual(new Set(expected.map((e: { id: string }) => e.id)));
    expect(lines.every((e) => e.target_type === 'role' && e.event_type === 'CREATE')).toBe(true);
    const csv = (await download('Download CSV')).trim().split('\r\n');
    expect(csv).toHaveLength(expected.length + 1);

    await page.getByRole('button', { name: 'Verify chain' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Chain' }).textContent()).toMatch(/^Chain intact: \d+ events checked\.$/);
    const checkpoint = JSON.parse(await download('Download a signed checkpoint')) as { checkpoint: { organization: string }; signature: string };
    expect(checkpoint.checkpoint.organization).toBe(org);
    expect(checkpoint.signature.length).toBeGreaterThan(20);
    // The checkpoint just downloaded is one the server verifies the chain against.
    expect((await owner('POST', `/orgs/${org}/audit-events/verify`, { checkpoints: [{ checkpoint: checkpoint.checkpoint, signature: checkpoint.signature }] })).ok).toBe(true);
    await expectAccessible(page, 'audit log tools');
    await closeClean(context, problems);
  }, 120_000);

  it('offers a VIEWER the roles to read but no editor, asks only about themselves, and shows no audit log', async () => {
    const { owner, org, emails } = fixture;
    const hidden = await owner('POST', `/orgs/${org}/roles`, { name: unique('viewer-sees-name') });
    const { context, page, problems } = await signedInPage(emails.viewer);
    await page.getByRole('link', { name: 'Roles' }).click();
    await page.getByRole('table', { name: 'Permissions of the system roles' }).waitFor();
    await page.getByRole('list', { name: 'Custom roles' }).getByText(hidden.name).waitFor();
    await page.waitForLoadState('networkidle');
    expect(await page.getByRole('link', { name: 'New custom role' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: hidden.name }).count()).toBe(0);
    await expectAccessible(page, 'roles as a viewer');
    await page.goto(`${consoleUnderTest.url}/orgs/${org}/roles/${hidden.id}`);
    await page.getByText('needs the member:manage permission').waitFor();
    expect(await page.getByRole('button', { name: /^(Save|Delete)/ }).count()).toBe(0);

    await page.getByRole('link', { name: 'Why?' }).click();
    await heading(page, 'Why? Access explainer').waitFor();
    await page.waitForLoadState('networkidle');
    expect(await page.getByLabel('Member or token').locator('option').allTextContents()).toEqual(['Myself']);
    await page.getByLabel('Action').selectOption('secret:write');
    await page.getByLabel('Project').selectOption('product');
    await page.getByLabel('Environment').selectOption('production');
    await page.getByRole('button', { name: 'Explain' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'secret:write' }).textContent()).toMatch(/^Denied: Myself/);
    await expectAccessible(page, 'why as a viewer');

    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('row', { name: /Vera Viewer/ }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(await page.getByRole('button', { name: /^Access of/ }).count()).toBe(0);

    expect(await page.getByRole('link', { name: 'Audit log' }).count()).toBe(0);
    await page.goto(`${consoleUnderTest.url}/orgs/${org}/audit`);
    await page.getByText('needs the audit:read permission').waitFor();
    expect(await page.getByRole('button', { name: 'Verify chain' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: /^Download/ }).count()).toBe(0);
    await closeClean(context, problems);
  }, 120_000);

  it("shows a user of another organization nothing of this organization's roles, members, access or audit", async () => {
    const { owner, org } = fixture;
    const secretName = unique('stranger-must-not-see');
    await owner('POST', `/orgs/${org}/roles`, { name: secretName });
    const strangerEmail = `${unique('stranger')}@example.test`;
    const stranger = await signedUp(consoleUnderTest.url, strangerEmail, password, 'Sam Stranger');
    await stranger('POST', '/orgs', { slug: unique('elsewhere'), name: 'Elsewhere' });
    const { context, page, problems } = await signedInPage(strangerEmail);
    expect(await page.getByLabel('Organization', { exact: true }).locator('option').allTextContents()).toEqual(['Elsewhere']);
    for (const [path, title] of [['roles', 'Roles'], ['why', 'Why? Access explainer'], ['members', 'Members'], ['audit', 'Audit log']] as const) {
      await page.goto(`${consoleUnderTest.url}/orgs/${org}/${path}`);
      await heading(page, title).waitFor();
      await page.waitForLoadState('networkidle');
      const text = (await page.locator('main').textContent()) ?? '';
      for (const seen of [secretName, 'Platform Engineers', 'Vera Viewer', 'Olga Owner', 'Posthog Analytics', 'Console V3']) expect(text, `${path}`).not.toContain(seen);
      await expectAccessible(page, `${path} as a stranger`);
    }
    // The API refused each of them (404: the organization does not exist for the stranger).
    await closeClean(context, problems.filter((p) => !/status of 404/.test(p)));
  }, 180_000);

  it('limits a new API token to a place picked in the hierarchy, and lists its last use', async () => {
    const { org, emails } = fixture;
    const { context, page, problems } = await signedInPage(emails.owner);
    await page.goto(`${consoleUnderTest.url}/orgs/${org}/tokens`);
    await heading(page, 'API tokens').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('picked');
    await page.getByLabel('Limit to project').selectOption('product');
    await page.getByLabel('Limit to environment').selectOption('production');
    expect(await page.getByLabel('Path limit').inputValue()).toBe('product/production');
    await expectAccessible(page, 'api token path picker');
    await page.getByRole('button', { name: 'Create token' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'shown only this once' });
    const token = (await notice.locator('code').textContent()) ?? '';
    const row = page.getByRole('row', { name: /^picked / });
    await expect.poll(() => row.getByRole('cell').nth(2).textContent()).toBe('product/production');
    expect(await row.getByRole('cell').nth(4).textContent()).toBe('—');
    // Used once: the list says when.
    const bearer = apiAsToken(token);
    await bearer('GET', `/orgs/${org}/projects/product/environments/production/variables`);
    await expect.poll(async () => {
      await page.reload();
      const used = page.getByRole('row', { name: /^picked / }).getByRole('cell').nth(4);
      await used.waitFor();
      return used.textContent();
    }).not.toBe('—');
    await closeClean(context, problems);
  }, 120_000);
});
