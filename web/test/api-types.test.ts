import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestServer } from '../../test/harness.js';
import { renderApiTypes, SCHEMA_FILE } from '../../scripts/api-types.mjs';

/** The console's API types must be those of this server: a renamed field breaks the build, not a user. */
let server: TestServer;
beforeAll(async () => {
  server = await TestServer.start();
  await server.app.ready();
});
afterAll(() => server.close());

it('has web/src/api/schema.d.ts generated from the current OpenAPI document (else run `npm run api-types`)', async () => {
  const fresh = await renderApiTypes(server.app.swagger());
  const committed = fs.readFileSync(SCHEMA_FILE, 'utf8');
  // A short message rather than a 17,000-line diff.
  expect(committed === fresh, 'web/src/api/schema.d.ts is stale: run `npm run api-types` and commit it').toBe(true);
});

it('generates types that name the routes the console calls', async () => {
  const fresh = await renderApiTypes(server.app.swagger());
  for (const route of ['/api/v1/auth/login', '/api/v1/orgs/{org}/variables', '/api/v1/orgs/{org}/authz/check', '/api/v1/orgs/{org}/audit-events']) {
    expect(fresh).toContain(`"${route}": {`);
  }
});
