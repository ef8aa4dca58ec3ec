import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { buildWebIfStale } from '../../scripts/web-build.mjs';
import { buildDist, embeddedDirFromTemplate, startServerProcess, type ServerProcess } from '../../test/processes.js';

/** Debian's chromium (`apt-get install chromium`), or COFFER_CHROMIUM. */
export const CHROMIUM = process.env.COFFER_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Whether the browser tests run: without Chromium they are skipped with one line saying so,
 * except under CI=true, where a missing browser is a failure (.ci/run installs it).
 */
export function chromiumAvailable(): boolean {
  if (fs.existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true: Chromium is required for the browser tests at ${CHROMIUM} (apt-get install chromium)`);
  console.warn(`Chromium is not installed at ${CHROMIUM}: skipping the browser tests (apt-get install chromium, or set COFFER_CHROMIUM)`);
  return false;
}

export interface Console {
  server: ServerProcess;
  browser: Browser;
  url: string;
  close(): Promise<void>;
}

/** The built server (and console) on a real port over a fresh embedded database, and a headless Chromium. */
export async function startConsole(env: Record<string, string> = {}): Promise<Console> {
  buildDist();
  buildWebIfStale({ quiet: true });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-browser-'));
  await embeddedDirFromTemplate(path.join(scratch, 'data'));
  const server = await startServerProcess({ COFFER_DATA_DIR: path.join(scratch, 'data'), LOG_LEVEL: 'warn', ...env });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    server,
    browser,
    url: server.url,
    async close() {
      await browser.close();
      server.child.kill('SIGTERM');
      await server.exited;
      fs.rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** Where each page's screenshot goes (1280×800), for a reviewer to look at; not committed. */
export const SCREENSHOTS = path.resolve('node_modules/.cache/coffer-test/console-screenshots');

/**
 * axe-core over the page as it is now: no violation at all, listed by rule and element when
 * there are some. The page's screenshot is saved under SCREENSHOTS first.
 */
export async function expectAccessible(page: Page, label: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${label.replace(/[^a-z0-9]+/gi, '-')}.png`) });
  const { violations } = await new AxeBuilder({ page }).analyze();
  const found = violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(found, `axe on ${label}`).toEqual([]);
}

/** Calls the API from the test (bearer token), for the setup a scenario needs but does not walk. */
export function apiAs(url: string, token?: string) {
  return async (method: string, route: string, body?: unknown) => {
    const response = await fetch(`${url}/api/v1${route}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${route} answered ${response.status}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}

/** A fresh 1280×800 browser profile that records every request and every console error. */
export async function openPage(browser: Browser, permissions: string[] = []): Promise<{ context: BrowserContext; page: Page; requests: string[]; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, permissions });
  const page = await context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    // A refused API call (401 before sign-in) is logged by the browser as a failed resource: expected.
    if (message.type() === 'error' && !/status of 401/.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return { context, page, requests, problems };
}

/** A new account, signed up through the API; its bearer-token caller. */
export async function signedUp(url: string, email: string, password: string, name: string) {
  const anonymous = apiAs(url);
  await anonymous('POST', '/auth/signup', { email, password, name });
  return apiAs(url, (await anonymous('POST', '/auth/login', { email, password })).token);
}

/** Signs in through the console's own form and waits for the projects page. */
export async function signInThroughForm(page: Page, consoleUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${consoleUrl}/signin`);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();
}

/** Fills the console's sign-up form (already open) and submits it. */
export async function submitSignUp(page: Page, account: { name: string; email: string; password: string }): Promise<void> {
  await page.getByLabel('Name').fill(account.name);
  await page.getByLabel('Email', { exact: true }).fill(account.email);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Create account' }).click();
}
