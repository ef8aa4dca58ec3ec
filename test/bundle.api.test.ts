import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleIsCurrent } from '../src/load-server.js';
import { IDP_SSO_URL, createSamlIdp } from './fixtures/saml-idp.js';
import { callListening } from './harness.js';
import { ROOT, buildDist, embeddedDirFromTemplate, startServerProcess, type ServerProcess } from './processes.js';

/**
 * `node dist/main.js` runs the esbuild bundle (scripts/bundle.mjs), not tsc's files the
 * in-process tests import. What differs there is how modules load: the HTTP app's chunk while
 * PGlite opens, node-saml's chunk on the first SAML request (a CommonJS package, whose bundled
 * import answers only `default`), the console's files found from dist/bundle/.
 */
const postgres = process.env.COFFER_TEST_BACKEND === 'postgres';
const PASSWORD = 'correct horse battery staple';

let scratch: string;
let server: ServerProcess;

beforeAll(async () => {
  if (postgres) return;
  buildDist();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bundle-'));
  await embeddedDirFromTemplate(path.join(scratch, 'data'));
  server = await startServerProcess({ COFFER_DATA_DIR: path.join(scratch, 'data'), LOG_LEVEL: 'warn' });
}, 180_000);

afterAll(async () => {
  if (postgres) return;
  server?.child.kill('SIGTERM');
  await server?.exited;
  fs.rmSync(scratch, { recursive: true, force: true });
});

// One backend is enough: the bundle loads the same way on both, and the embedded one needs no database.
describe.skipIf(postgres)('the bundled server (node dist/main.js)', () => {
  it('is what dist/main.js runs after a build', () => {
    expect(bundleIsCurrent(path.join(ROOT, 'dist/bundle/server.js'), path.join(ROOT, 'dist/.tsbuildinfo'))).toBe(true);
  });

  it('serves SAML: a provider from IdP metadata, its SP metadata, and a start that redirects to the IdP', async () => {
    await callListening(server.url, 'POST', '/auth/signup', { email: 'bundle@example.test', password: PASSWORD, name: 'Bundle' });
    const { token } = (await callListening(server.url, 'POST', '/auth/login', { email: 'bundle@example.test', password: PASSWORD })) as { token: string };
    await callListening(server.url, 'POST', '/orgs', { slug: 'bundled' }, token);
    const provider = (await callListening(server.url, 'POST', '/orgs/bundled/sso/providers', { type: 'saml', name: 'Test SAML IdP', idp_metadata_xml: createSamlIdp().metadata() }, token)) as {
      id: string;
      sp_metadata_url: string;
    };

    const metadata = await fetch(`${server.url}${new URL(provider.sp_metadata_url).pathname}`);
    expect(metadata.status).toBe(200);
    expect(await metadata.text()).toContain('AssertionConsumerService');

    const start = await fetch(`${server.url}/api/v1/auth/sso/bundled/start?provider=${provider.id}`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const location = new URL(String(start.headers.get('location')));
    expect(`${location.origin}${location.pathname}`).toBe(IDP_SSO_URL);
    expect(location.searchParams.get('SAMLRequest')).toBeTruthy();
  });

  it('serves the console and the OpenAPI document', async () => {
    const page = await fetch(`${server.url}/orgs/anything`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    const openapi = await fetch(`${server.url}/api/v1/openapi.json`);
    expect(((await openapi.json()) as { openapi: string }).openapi).toMatch(/^3\./);
  });
});
