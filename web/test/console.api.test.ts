import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { App } from '../../src/kernel/http/app-types.js';
import { LocalKeyProvider } from '../../src/kernel/crypto/key-provider.js';
import { openAudit, type OpenedAudit } from '../../src/modules/audit/index.js';
import { openTestDatabase, type TestDatabase } from '../../test/harness.js';

/** Serving the console from a stand-in build (no Vite needed): files, SPA fallback, headers, cookies. */
let app: App;
let database: TestDatabase;
let dir: string;
let audit: OpenedAudit;
const rootKey = randomBytes(32);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-console-'));
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Coffer</title><div id="root"></div>');
  fs.writeFileSync(path.join(dir, 'assets/index-abc123.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  fs.writeFileSync(path.join(os.tmpdir(), 'coffer-outside.txt'), 'outside');
  database = await openTestDatabase();
  audit = await openAudit(database.db, rootKey, new LocalKeyProvider(rootKey));
  const config = { ...loadConfig({}), logLevel: 'silent' as const, trustProxy: true };
  app = await buildApp({ config, db: database.db, rootKey, audit, consoleDir: dir });
});
afterAll(async () => {
  await app.close();
  await database.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

describe('serving the console', () => {
  it('serves index.html at / and at any deep link outside /api, never cached', async () => {
    for (const url of ['/', '/orgs/acme/projects/shop?tab=1', '/signin']) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toContain('<div id="root">');
      expect(response.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves hashed assets as immutable and other top-level files by name', async () => {
    const asset = await get('/assets/index-abc123.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await get('/favicon.svg')).statusCode).toBe(200);
  });

  it('sends the precompressed file to a browser that accepts it, and the plain one otherwise', async () => {
    fs.writeFileSync(path.join(dir, 'assets/index-abc123.js.br'), 'brotli bytes');
    const compressed = await get('/assets/index-abc123.js', { 'accept-encoding': 'gzip, br' });
    expect(compressed.headers['content-encoding']).toBe('br');
    expect(compressed.body).toBe('brotli bytes');
    expect(compressed.headers.vary).toMatch(/accept-encoding/i);
    const plain = await get('/assets/index-abc123.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe('console.log(1)');
  });

  it('answers unknown /api paths and missing assets with the JSON 404, not the page', async () => {
    for (const url of ['/api/v1/nope', '/api', '/assets/missing.js']) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(404);
      expect(response.json().error.code).toBe('NOT_FOUND');
    }
  });

  it('serves nothing outside its directory', async () => {
    for (const url of ['/assets/..%2f..%2fcoffer-outside.txt', '/assets/%2e%2e/%2e%2e/coffer-outside.txt']) {
      const response = await get(url);
      // A refusal, or the page itself: never the file beside the directory.
      expect(response.body, url).not.toContain('outside');
      if (response.statusCode === 200) expect(response.headers['content-type']).toMatch(/^text\/html/);
    }
  });

  it('says plainly when the console is not built', async () => {
    const bare = await buildApp({ config: { ...loadConfig({}), logLevel: 'silent' }, db: database.db, rootKey, audit, consoleDir: path.join(dir, 'none') });
    try {
      const response = await bare.inject({ method: 'GET', url: '/' });
      expect(response.statusCode).toBe(503);
      expect(response.body).toContain('npm run build');
    } finally {
      await bare.close();
    }
  });
});

describe('security headers', () => {
  it('sends a strict CSP without inline script, no framing, no referrer, no sniffing, on pages and API answers', async () => {
    for (const url of ['/', '/assets/index-abc123.js', '/api/v1/openapi.json', '/api/v1/me']) {
      const { headers } = await get(url);
      const csp = String(headers['content-security-policy']);
      // A JSON answer may load nothing at all; the console's pages only what they ship.
      if (url.startsWith('/api/')) expect(csp, url).toBe("default-src 'none'; frame-ancestors 'none'");
      else expect(csp, url).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain("'unsafe-eval'"); // 'wasm-unsafe-eval' compiles WebAssembly only
      expect(csp).toContain("frame-ancestors 'none'");
      expect(headers['x-frame-options']).toBe('DENY');
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['referrer-policy']).toBe('no-referrer');
    }
  });

  it('adds HSTS only over HTTPS', async () => {
    expect((await get('/')).headers['strict-transport-security']).toBeUndefined();
    expect((await get('/', { 'x-forwarded-proto': 'https' })).headers['strict-transport-security']).toMatch(/max-age=/);
  });
});

describe('the session cookie', () => {
  const password = 'correct horse battery staple';
  async function signIn(headers: Record<string, string>) {
    const email = `cookie-${randomBytes(4).toString('hex')}@example.test`;
    await app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email, password, name: 'Cookie' } });
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password }, headers });
    expect(login.statusCode).toBe(200);
    return login.cookies;
  }

  it('is HttpOnly and SameSite=Lax, and Secure when the request came over HTTPS', async () => {
    const plain = await signIn({});
    const session = plain.find((c) => c.name === 'coffer_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Lax');
    expect(session.secure).toBeFalsy();
    const csrf = plain.find((c) => c.name === 'coffer_csrf')!;
    expect(csrf.httpOnly).toBeFalsy();
    for (const cookie of await signIn({ 'x-forwarded-proto': 'https' })) expect(cookie.secure, cookie.name).toBe(true);
  });

  it('refuses a state change carried by the cookie without the CSRF token, and accepts it with the token', async () => {
    const cookies = Object.fromEntries((await signIn({})).map((c) => [c.name, c.value]));
    const slug = `org-${randomBytes(3).toString('hex')}`;
    const refused = await app.inject({ method: 'POST', url: '/api/v1/orgs', cookies: { coffer_session: cookies.coffer_session! }, payload: { slug } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('CSRF_FAILED');
    const accepted = await app.inject({
      method: 'POST',
      url: '/api/v1/orgs',
      cookies: { coffer_session: cookies.coffer_session! },
      headers: { 'x-csrf-token': cookies.coffer_csrf! },
      payload: { slug },
    });
    expect(accepted.statusCode).toBe(201);
  });
});
