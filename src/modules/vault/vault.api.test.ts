import { request as httpRequest } from 'node:http';
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer } from '../../../test/harness.js';

/**
 * The Vault-compatible KV v2 read API, driven by the real `node-vault` client from npm over a
 * listening server, plus raw requests for the shapes Vault documents.
 */
let server: TestServer;
let address: string;
beforeAll(async () => {
  server = await TestServer.start();
  address = await server.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => server.close());

const client = (token?: string, options: Record<string, unknown> = {}) => nodeVault({ apiVersion: 'v1', endpoint: address, token, noCustomHTTPVerbs: true, ...options });

/** The client's rejection: status and Vault's `errors`. */
async function refusal(promise: Promise<unknown>): Promise<{ status: number; errors: string[] }> {
  try {
    await promise;
  } catch (error) {
    const { response } = error as { response: { statusCode: number; body: { errors: string[] } } };
    return { status: response.statusCode, errors: response.body.errors };
  }
  throw new Error('expected a refusal');
}

async function raw(method: string, path: string, headers: Record<string, string> = {}) {
  const response = await server.app.inject({ method: method as 'GET', url: path, headers });
  return { status: response.statusCode, body: response.body ? JSON.parse(response.body) : undefined };
}

/** An organization with shop/production/backend, shop/staging, values at three levels and a reference. */
async function fixture() {
  const { owner, org } = await server.tree();
  const base = `/orgs/${org}/projects/shop/environments/production`;
  await server.expect(201, 'POST', `/orgs/${org}/variables`, { token: owner.token, payload: { key: 'LOG_LEVEL', value: 'info' } });
  await server.expect(201, 'POST', `${base}/variables`, { token: owner.token, payload: { key: 'DB_HOST', value: 'db.prod.internal' } });
  await server.expect(201, 'POST', `${base}/variables`, { token: owner.token, payload: { key: 'LOG_LEVEL', value: 'warn' } });
  const apiKey = await server.expect(201, 'POST', `${base}/services/backend/variables`, { token: owner.token, payload: { key: 'API_KEY', type: 'secret', value: 'canary_vault_0123456789' } });
  await server.expect(201, 'POST', `${base}/services/backend/variables`, { token: owner.token, payload: { key: 'DATABASE_URL', value: 'postgres://${DB_HOST}/app' } });
  await server.expect(201, 'POST', `/orgs/${org}/projects/shop/environments`, { token: owner.token, payload: { slug: 'staging', type: 'STAGING' } });
  const ci = await server.mint(owner.token, org, { preset: 'ci', expires_at: new Date(Date.now() + 3600_000).toISOString() });
  return { owner, org, base, ci, apiKeyId: apiKey.body.id as string };
}

describe('vault API through node-vault', () => {
  it('reads a service resolved exactly as …/resolve, with KV v2 metadata', async () => {
    const { org, base, ci } = await fixture();
    const resolved = await server.expect(200, 'GET', `${base}/services/backend/resolve?format=env-json`, { token: ci.token });
    const read = await client(ci.token).read(`${org}/data/shop/production/backend`);
    expect(read.data.data).toEqual(resolved.body);
    expect(read.data.data).toMatchObject({ LOG_LEVEL: 'warn', DATABASE_URL: 'postgres://db.prod.internal/app', API_KEY: 'canary_vault_0123456789' });
    expect(read.data.metadata).toEqual({ version: 6, created_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), deletion_time: '', destroyed: false, custom_metadata: null });
    // The environment is a path of its own: no service variables there.
    const environment = await client(ci.token).read(`${org}/data/shop/production`);
    expect(environment.data.data).toMatchObject({ LOG_LEVEL: 'warn', DB_HOST: 'db.prod.internal' });
    expect(environment.data.data.API_KEY).toBeUndefined();
  });

  it('counts versions by change, serves the current one by number and refuses an older one with 404 saying why', async () => {
    const { owner, org, base, ci, apiKeyId } = await fixture();
    const vault = client(ci.token);
    const before = (await vault.read(`${org}/data/shop/production/backend`)).data.metadata.version;
    await server.expect(200, 'PATCH', `${base}/services/backend/variables/${apiKeyId}`, { token: owner.token, payload: { value: 'canary_vault_rotated_0123' } });
    const after = await vault.read(`${org}/data/shop/production/backend`);
    expect(after.data.metadata.version).toBe(before + 1);
    expect(after.data.data.API_KEY).toBe('canary_vault_rotated_0123');
    expect((await vault.read(`${org}/data/shop/production/backend?version=${before + 1}`)).data.data.API_KEY).toBe('canary_vault_rotated_0123');
    const older = await refusal(vault.read(`${org}/data/shop/production/backend?version=${before}`));
    expect(older.status).toBe(404);
    expect(older.errors[0]).toContain(`only the current version (${before + 1})`);
    const metadata = await vault.read(`${org}/metadata/shop/production/backend`);
    expect(metadata.data).toMatchObject({ current_version: before + 1, oldest_version: before + 1 });
  });

  it('lists projects, environments and services the token may see', async () => {
    const { owner, org, ci } = await fixture();
    await server.expect(201, 'POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'billing' } });
    const vault = client(ci.token);
    expect((await vault.list(`${org}/metadata/`)).data.keys).toEqual(['billing/', 'shop/']);
    expect((await vault.list(`${org}/metadata/shop/`)).data.keys).toEqual(['production', 'production/', 'staging', 'staging/']);
    expect((await vault.list(`${org}/metadata/shop/production`)).data.keys).toEqual(['backend']);
    // A token limited to shop/staging sees only its own branch.
    const staging = await server.mint(owner.token, org, { preset: 'ci', path: 'shop/staging' });
    expect((await client(staging.token).list(`${org}/metadata/shop/`)).data.keys).toEqual(['staging', 'staging/']);
    expect((await refusal(client(staging.token).list(`${org}/metadata/shop/production/`))).status).toBe(404);
  });

  it('answers 403 permission denied without the action, and 404 for what the token may not see', async () => {
    const { owner, org, ci } = await fixture();
    const readOnly = await server.mint(owner.token, org, { preset: 'read-only' });
    const denied = await refusal(client(readOnly.token).read(`${org}/data/shop/production/backend`));
    expect(denied).toMatchObject({ status: 403, errors: [expect.stringMatching(/^permission denied: .*secret:decrypt/)] });
    const staging = await server.mint(owner.token, org, { preset: 'ci', path: 'shop/staging' });
    const hidden = await refusal(client(staging.token).read(`${org}/data/shop/production/backend`));
    const missing = await refusal(client(ci.token).read(`${org}/data/shop/nowhere`));
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    // A token of another organization: this one's project is as missing as a made-up one.
    const other = await fixture();
    const stranger = await refusal(client(other.ci.token).read(`${org}/data/shop/production/backend`));
    expect(stranger.status).toBe(404);
    expect(JSON.stringify(stranger)).not.toContain('canary');
    expect((await refusal(client(undefined).read(`${org}/data/shop/production/backend`))).status).toBe(403);
    expect((await refusal(client('cfr_forged').read(`${org}/data/shop/production/backend`))).errors).toEqual(['permission denied: the token is invalid or has expired']);
  });

  it('refuses writes with 405 and changes nothing', async () => {
    const { org, ci, base } = await fixture();
    const write = await refusal(client(ci.token).write(`${org}/data/shop/production/backend`, { data: { API_KEY: 'overwritten' } }));
    expect(write.status).toBe(405);
    expect(write.errors[0]).toContain('read-only');
    const resolved = await server.expect(200, 'GET', `${base}/services/backend/resolve?format=env-json`, { token: ci.token });
    expect(resolved.body.API_KEY).toBe('canary_vault_0123456789');
  });

  it('records every read as a durable READ_SECRET event with tool VAULT_API', async () => {
    const { owner, org, ci } = await fixture();
    await client(ci.token).read(`${org}/data/shop/production/backend`);
    // Coffer's own API cannot claim the Vault API's mark.
    await server.expect(200, 'GET', `/orgs/${org}/projects/shop/environments/production/services/backend/resolve`, { token: ci.token, headers: { 'x-coffer-tool': 'VAULT_API' } });
    const events = await server.expect(200, 'GET', `/orgs/${org}/audit-events?event_type=READ_SECRET&tool=VAULT_API`, { token: owner.token });
    expect(events.body.items).toHaveLength(1);
    expect(events.body.items[0]).toMatchObject({ event_type: 'READ_SECRET', tool: 'VAULT_API' });
    expect(JSON.stringify(events.body)).not.toContain('canary');
    // Refusals are recorded under the same tool.
    const readOnly = await server.mint(owner.token, org, { preset: 'read-only' });
    await refusal(client(readOnly.token).read(`${org}/data/shop/production/backend`));
    const denied = await server.expect(200, 'GET', `/orgs/${org}/audit-events?event_type=ACCESS_DENIED&tool=VAULT_API`, { token: owner.token });
    expect(denied.body.items).toHaveLength(1);
    const rows = await server.db.selectFrom('audit_events').select(['event_type', 'tool', 'target_name', 'actor_id']).where('tool', '=', 'VAULT_API').where('target_name', '=', 'shop/production/backend').where('actor_id', '=', ci.id).execute();
    expect(rows).toEqual([{ event_type: 'READ_SECRET', tool: 'VAULT_API', target_name: 'shop/production/backend', actor_id: ci.id }]);
  });

  it('answers health, lookup-self (scopes as policies, ttl, not renewable) and KV v2 mount detection', async () => {
    const { org, ci } = await fixture();
    expect(await client().health()).toMatchObject({ initialized: true, sealed: false, standby: false });
    const self = await client(ci.token).tokenLookupSelf();
    expect(self.data).toMatchObject({ accessor: ci.id, display_name: ci.name, id: '', renewable: false, meta: { organization: org } });
    expect(self.data.policies).toEqual(['environment:read', 'organization:read', 'project:read', 'secret:decrypt', 'secret:read', 'service:read']);
    expect(self.data.ttl).toBeGreaterThan(3500);
    expect(self.data.ttl).toBeLessThanOrEqual(3600);
    const mounts = await client(ci.token).mounts();
    expect(mounts.data).toEqual({ [`${org}/`]: expect.objectContaining({ type: 'kv', options: { version: '2' } }) });
    const detected = await client(ci.token).read(`sys/internal/ui/mounts/${org}/shop/production`);
    expect(detected.data).toMatchObject({ path: `${org}/`, type: 'kv', options: { version: '2' } });
    const stranger = (await fixture()).ci;
    expect((await refusal(client(stranger.token).read(`sys/internal/ui/mounts/${org}`))).status).toBe(404);
  });
});

describe('vault API raw requests', () => {
  it('answers KV v2 read in the shape Vault documents, with the token in X-Vault-Token or Authorization', async () => {
    const { org, ci } = await fixture();
    for (const headers of [{ 'x-vault-token': ci.token }, { authorization: `Bearer ${ci.token}` }] as Record<string, string>[]) {
      const response = await raw('GET', `/v1/${org}/data/shop/production/backend`, headers);
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['auth', 'data', 'lease_duration', 'lease_id', 'renewable', 'request_id', 'warnings', 'wrap_info']);
      expect(Object.keys(response.body.data).sort()).toEqual(['data', 'metadata']);
    }
    expect(await raw('GET', `/v1/${org}/data/shop/production/backend?version=abc`, { 'x-vault-token': ci.token })).toMatchObject({ status: 400, body: { errors: [expect.stringContaining('query.version')] } });
    expect(await raw('GET', `/v1/${org}/nothing-here`, { 'x-vault-token': ci.token })).toMatchObject({ status: 404, body: { errors: [expect.any(String)] } });
  });

  it('lists with GET ?list=true and ?list=1 alike, and reads metadata without list', async () => {
    const { org, ci } = await fixture();
    const listed = await raw('GET', `/v1/${org}/metadata/shop?list=1`, { 'x-vault-token': ci.token });
    const got = await raw('GET', `/v1/${org}/metadata/shop/?list=true`, { 'x-vault-token': ci.token });
    expect(listed.status).toBe(200);
    expect(listed.body.data.keys).toEqual(got.body.data.keys);
    expect(await raw('GET', `/v1/${org}/metadata/shop`, { 'x-vault-token': ci.token })).toMatchObject({ status: 404, body: { errors: [expect.stringContaining('list=true')] } });
  });

  it("cannot receive LIST over HTTP: Node.js's parser refuses the method before Coffer sees it", async () => {
    const { port } = new URL(address);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port, method: 'LIST', path: '/v1/x/metadata/' }, (response) => resolve(response.statusCode));
      request.on('error', reject);
      request.end();
    });
    expect(status).toBe(400);
  });
});

describe('vault API route contract', () => {
  type Operation = { security?: unknown[]; 'x-coffer-action'?: string };
  async function vaultOperations() {
    const document = (await server.expect(200, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, Operation>> };
    return Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })));
  }

  it('documents every Vault route in the OpenAPI document, each place-bound one with its action', async () => {
    const operations = await vaultOperations();
    expect(operations.map((op) => `${op.method} ${op.path}`).sort()).toEqual(
      [
        'GET /v1/sys/health',
        'GET /v1/auth/token/lookup-self',
        'GET /v1/sys/mounts',
        'GET /v1/sys/internal/ui/mounts/{org}',
        'GET /v1/{org}/data/{project}/{env}',
        'GET /v1/{org}/data/{project}/{env}/{service}',
        'GET /v1/{org}/metadata',
        'GET /v1/{org}/metadata/{project}',
        'GET /v1/{org}/metadata/{project}/{env}',
        'GET /v1/{org}/metadata/{project}/{env}/{service}',
      ].sort(),
    );
    for (const op of operations.filter((o) => o.path.startsWith('/v1/{org}'))) expect(op.operation['x-coffer-action'], op.path).toBeDefined();
    expect(operations.find((op) => op.path === '/v1/sys/health')!.operation.security).toEqual([]);
  });

  it('answers 403 in Vault shape without a token, and 404 to a stranger, on every non-public Vault route', async () => {
    const { org } = await fixture();
    const stranger = (await fixture()).ci;
    const fill = (path: string) => path.replace('{org}', org).replace('{project}', 'shop').replace('{env}', 'production').replace('{service}', 'backend');
    for (const op of (await vaultOperations()).filter((o) => o.path !== '/v1/sys/health')) {
      const anonymous = await raw(op.method, fill(op.path));
      expect(anonymous, op.path).toEqual({ status: 403, body: { errors: [expect.stringMatching(/^permission denied/)] } });
      if (!op.path.includes('{org}')) continue;
      const refused = await raw(op.method, fill(op.path), { 'x-vault-token': stranger.token });
      expect(refused.status, op.path).toBe(404);
      expect(Object.keys(refused.body), op.path).toEqual(['errors']);
    }
  });
});
