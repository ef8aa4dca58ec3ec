import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expectError, expectInvalidField, useTestServer } from '../../../test/harness.js';
import { createProjectKey, decryptValue, encryptValue, unwrapProjectKey, wrapProjectKey } from '../../cli/client-keys.js';
import type { ValueScope } from '../../kernel/crypto/client-envelope.js';

const server = useTestServer();
const PASSPHRASE = 'fake test passphrase';

/** An organization with a client-managed project `vault` (environment production, service api) and the client's key. */
async function clientProject() {
  const { owner, org } = await server.tree();
  const { key, wrapped } = await createProjectKey(PASSPHRASE, null);
  const created = await server.expect(201, 'POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'vault', encryption: 'client', client_key: wrapped } });
  await server.expect(201, 'POST', `/orgs/${org}/projects/vault/environments`, { token: owner.token, payload: { slug: 'production', type: 'PRODUCTION' } });
  const env = await server.expect(201, 'POST', `/orgs/${org}/projects/vault/environments/production/services`, {
    token: owner.token,
    payload: { slug: 'api', kind: 'application', outputs: { url: 'https://api.internal' } },
  });
  const material = (await server.expect(200, 'GET', `/orgs/${org}/projects/vault/key`, { token: owner.token })).body;
  const envId = (await server.expect(200, 'GET', `/orgs/${org}/projects/vault/environments/production`, { token: owner.token })).body.id as string;
  const base = `/orgs/${org}/projects/vault`;
  const seal = (value: string, key: string, scope: ValueScope, version = 1, keyVersion = 1) =>
    encryptValue(projectKey, value, { organizationId: material.organization_id, projectId: created.body.id, scope, key, version, keyVersion });
  const projectKey = key;
  return { owner, org, base, key, material, projectId: created.body.id as string, envId, serviceId: env.body.id as string, seal };
}

describe('client-managed projects: happy path', () => {
  it('creates a client project that shows encryption client, and hands out its wrapped key with key:retrieve', async () => {
    const { owner, org, base, key, material, projectId } = await clientProject();
    const got = await server.expect(200, 'GET', base, { token: owner.token });
    expect(got.body.encryption).toBe('client');
    expect((await server.expect(200, 'GET', `/orgs/${org}/projects/shop`, { token: owner.token })).body.encryption).toBe('server');
    expect(material).toMatchObject({ project_id: projectId, key_version: 1, kdf: { algorithm: 'argon2id', memory_kib: 19456, iterations: 2, parallelism: 1 } });
    expect(await unwrapProjectKey(material, PASSPHRASE, { organizationId: material.organization_id, projectId })).toEqual(key);
    await server.expect(409, 'GET', `/orgs/${org}/projects/shop/key`, { token: owner.token });
  });

  it('stores client ciphertext as given, shows plain values as ciphertext and secrets as a placeholder', async () => {
    const { owner, base, seal } = await clientProject();
    const plain = seal('fake-plain-value', 'LOG_LEVEL', { level: 'project' });
    await server.expect(201, 'POST', `${base}/variables`, { token: owner.token, payload: { key: 'LOG_LEVEL', value: plain } });
    await server.expect(201, 'POST', `${base}/variables`, { token: owner.token, payload: { key: 'API_KEY', type: 'secret', value: seal('fake-secret', 'API_KEY', { level: 'project' }) } });
    const list = (await server.expect(200, 'GET', `${base}/variables`, { token: owner.token })).body.items;
    expect(list.map((v: { key: string; value: string; encryption: string }) => [v.key, v.value, v.encryption])).toEqual([
      ['API_KEY', '********', 'client'],
      ['LOG_LEVEL', plain, 'client'],
    ]);
  });

  it('resolves with precedence, ciphertext for the project and marked server-managed built-ins, references left to the client', async () => {
    const { owner, org, base, seal, envId, key, material, projectId, serviceId } = await clientProject();
    await server.expect(201, 'POST', `/orgs/${org}/variables`, { token: owner.token, payload: { key: 'REGION', value: 'eu-fake' } });
    await server.expect(201, 'POST', `${base}/variables`, { token: owner.token, payload: { key: 'URL', value: seal('https://${HOST}/x', 'URL', { level: 'project' }) } });
    const envBase = `${base}/environments/production`;
    await server.expect(201, 'POST', `${envBase}/variables`, { token: owner.token, payload: { key: 'URL', value: seal('https://env/${REGION}', 'URL', { level: 'environment', id: envId }) } });
    const resolved = (await server.expect(200, 'GET', `${envBase}/services/api/resolve`, { token: owner.token })).body;
    expect(resolved).toMatchObject({ encryption: 'client', references: 'client', binding: { project_id: projectId, environment_id: envId, service_id: serviceId } });
    const byKey = Object.fromEntries(resolved.variables.map((v: { key: string }) => [v.key, v]));
    expect(byKey.REGION).toMatchObject({ value: 'eu-fake', encryption: 'server', scope: 'organization' });
    expect(byKey.COFFER_APPLICATION_API_URL).toMatchObject({ value: 'https://api.internal', encryption: 'server', scope: 'builtin' });
    expect(byKey.URL).toMatchObject({ encryption: 'client', scope: 'environment', version: 1 });
    const binding = { organizationId: material.organization_id, projectId, scope: { level: 'environment' as const, id: envId }, key: 'URL', version: 1 };
    expect(decryptValue(key, byKey.URL.value, binding, 1)).toBe('https://env/${REGION}');
  });

  it('records READ_SECRET for a client resolution, saying the server held no key', async () => {
    const { owner, org, base } = await clientProject();
    await server.expect(200, 'GET', `${base}/environments/production/resolve`, { token: owner.token });
    const events = (await server.expect(200, 'GET', `/orgs/${org}/audit-events?event_type=READ_SECRET`, { token: owner.token })).body.items;
    expect(events[0].details).toMatchObject({ encryption: 'client', server_held_key: false });
  });

  it('changes the passphrase with the current wrapped key, and refuses a stale one with 409', async () => {
    const { owner, base, key, material, projectId } = await clientProject();
    const context = { organizationId: material.organization_id, projectId };
    const next = await wrapProjectKey(key, 'another fake passphrase', context, 1);
    await server.expect(200, 'PUT', `${base}/key`, { token: owner.token, payload: { current_wrapped_key: material.wrapped_key, key: next } });
    const again = await wrapProjectKey(key, 'third fake passphrase', context, 1);
    expectError(await server.request('PUT', `${base}/key`, { token: owner.token, payload: { current_wrapped_key: material.wrapped_key, key: again } }), 409, 'CONFLICT');
    const now = (await server.expect(200, 'GET', `${base}/key`, { token: owner.token })).body;
    expect(await unwrapProjectKey(now, 'another fake passphrase', context)).toEqual(key);
  });

  it('rotates the key re-encrypting every live value atomically, refusing a request that leaves one out', async () => {
    const { owner, base, seal, material, projectId, envId } = await clientProject();
    const a = (await server.expect(201, 'POST', `${base}/variables`, { token: owner.token, payload: { key: 'A', value: seal('fake-a', 'A', { level: 'project' }) } })).body;
    const b = (await server.expect(201, 'POST', `${base}/environments/production/variables`, { token: owner.token, payload: { key: 'B', type: 'secret', value: seal('fake-b', 'B', { level: 'environment', id: envId }) } })).body;
    const { key: newKey, wrapped } = await createProjectKey(PASSPHRASE, { organizationId: material.organization_id, projectId }, 2);
    const reseal = (value: string, name: string, scope: ValueScope) =>
      encryptValue(newKey, value, { organizationId: material.organization_id, projectId, scope, key: name, version: 2, keyVersion: 2 });
    const valueA = { variable_id: a.id, version: 2, value: reseal('fake-a', 'A', { level: 'project' }) };
    const valueB = { variable_id: b.id, version: 2, value: reseal('fake-b', 'B', { level: 'environment', id: envId }) };
    expectError(await server.request('POST', `${base}/key/rotate`, { token: owner.token, payload: { current_key_version: 1, key: wrapped, values: [valueA] } }), 409, 'CONFLICT');
    expect((await server.expect(200, 'GET', `${base}/variables/${a.id}`, { token: owner.token })).body.version).toBe(1);
    const rotated = await server.expect(200, 'POST', `${base}/key/rotate`, { token: owner.token, payload: { current_key_version: 1, key: wrapped, values: [valueA, valueB] } });
    expect(rotated.body).toEqual({ key_version: 2, reencrypted: 2 });
    expect((await server.expect(200, 'GET', `${base}/key`, { token: owner.token })).body.key_version).toBe(2);
    // A write under the rotated-away key is refused.
    expectError(await server.request('PATCH', `${base}/variables/${a.id}`, { token: owner.token, payload: { value: seal('x', 'A', { level: 'project' }, 3, 1), version: 3 } }), 409, 'CONFLICT');
  });
});

describe('client-managed projects: errors', () => {
  it('binds the first wrap to the organization and the project id the client chose; an unbound wrap of an older project still opens', async () => {
    const { owner, org } = await server.org();
    const organizationId = (await server.expect(200, 'GET', `/orgs/${org}`, { token: owner.token })).body.id as string;
    const id = randomUUID();
    const { key, wrapped } = await createProjectKey(PASSPHRASE, { organizationId, projectId: id });
    const created = await server.expect(201, 'POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'bound', encryption: 'client', client_key: wrapped, id } });
    expect(created.body.id).toBe(id);
    const material = (await server.expect(200, 'GET', `/orgs/${org}/projects/bound/key`, { token: owner.token })).body;
    expect(await unwrapProjectKey(material, PASSPHRASE, { organizationId, projectId: id })).toEqual(key);
    // Presented as another project's key (a server swapping wrapped keys), the bound wrap does not open.
    await expect(unwrapProjectKey(material, PASSPHRASE, { organizationId, projectId: randomUUID() })).rejects.toThrow(/Wrong passphrase/);
    const again = await server.request('POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'other', encryption: 'client', client_key: wrapped, id } });
    expectError(again, 409, 'CONFLICT', { field: 'body.id' });
    expectInvalidField(await server.request('POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'plain', id: randomUUID() } }), 'body.id');
    expectInvalidField(await server.request('POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'odd', encryption: 'client', client_key: wrapped, id: 'not-a-uuid' } }), 'body.id');
  });

  it('refuses a pg_service entry in the project with 409 naming it, while an organization entry reaches its resolution marked server-managed', async () => {
    const { owner, org, base } = await clientProject();
    const entry = { service: 'main', host: 'db.internal', dbname: 'app', user: 'app', password: 'fake-pg-password' };
    const refused = await server.request('POST', `${base}/environments/production/variables`, { token: owner.token, payload: { type: 'pg_service', pg_service: entry } });
    expectError(refused, 409, 'CONFLICT', { encryption: 'client', project: 'vault', field: 'body.type' });
    expect(refused.body.error.message).toMatch(/Project vault is client-managed: it cannot hold pg_service entries.*organization scope/);
    await server.expect(201, 'POST', `/orgs/${org}/variables`, { token: owner.token, payload: { type: 'pg_service', pg_service: entry } });
    const resolved = (await server.expect(200, 'GET', `${base}/environments/production/services/api/resolve`, { token: owner.token })).body;
    expect(resolved.pg_services).toEqual([expect.objectContaining({ service: 'main', password: 'fake-pg-password', scope: 'organization', encryption: 'server' })]);
    expect(resolved.variables.find((v: { key: string }) => v.key === 'COFFER_APPLICATION_API_URL')).toMatchObject({ encryption: 'server', scope: 'builtin' });
  });

  it('refuses a client project without a key, a server project with one, and absurd Argon2 parameters, naming the field', async () => {
    const { owner, org } = await server.org();
    const { wrapped } = await createProjectKey(PASSPHRASE, null);
    expectInvalidField(await server.request('POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'a', encryption: 'client' } }), 'body.client_key');
    expectInvalidField(await server.request('POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'b', client_key: wrapped } }), 'body.client_key');
    const absurd = { ...wrapped, kdf: { ...wrapped.kdf, memory_kib: 1 << 30 } };
    expectInvalidField(await server.request('POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'c', encryption: 'client', client_key: absurd } }), 'body.client_key.kdf.memory_kib');
    const weak = { ...wrapped, kdf: { ...wrapped.kdf, iterations: 1 } };
    expectInvalidField(await server.request('POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'd', encryption: 'client', client_key: weak } }), 'body.client_key.kdf.iterations');
    expectInvalidField(await server.request('POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'e', encryption: 'client', client_key: { ...wrapped, salt: 'AA' } } }), 'body.client_key.salt');
  });

  it('refuses plaintext, truncated ciphertext and a stale version in a client project', async () => {
    const { owner, base, seal } = await clientProject();
    expectInvalidField(await server.request('POST', `${base}/variables`, { token: owner.token, payload: { key: 'K', value: 'fake-plaintext' } }), 'body.value');
    const good = seal('fake', 'K', { level: 'project' });
    expectInvalidField(await server.request('POST', `${base}/variables`, { token: owner.token, payload: { key: 'K', value: good.slice(0, 30) } }), 'body.value');
    const created = (await server.expect(201, 'POST', `${base}/variables`, { token: owner.token, payload: { key: 'K', value: good } })).body;
    expectInvalidField(await server.request('PATCH', `${base}/variables/${created.id}`, { token: owner.token, payload: { value: seal('x', 'K', { level: 'project' }, 2) } }), 'body.version');
    expectError(await server.request('PATCH', `${base}/variables/${created.id}`, { token: owner.token, payload: { value: seal('x', 'K', { level: 'project' }, 5), version: 5 } }), 409, 'CONFLICT');
    await server.expect(200, 'PATCH', `${base}/variables/${created.id}`, { token: owner.token, payload: { value: seal('x', 'K', { level: 'project' }, 2), version: 2 } });
  });

  it('answers 409 naming the project as client-managed to every server-side decryption: flat formats (what Vault reads too) and rollback', async () => {
    const { owner, base, seal } = await clientProject();
    const created = (await server.expect(201, 'POST', `${base}/variables`, { token: owner.token, payload: { key: 'K', value: seal('fake', 'K', { level: 'project' }) } })).body;
    for (const format of ['env-json', 'dotenv', 'shell']) {
      const refused = await server.request('GET', `${base}/environments/production/resolve?format=${format}`, { token: owner.token });
      expectError(refused, 409, 'CONFLICT');
      expect(refused.body.error.message).toMatch(/Project vault is client-managed.*COFFER_PASSPHRASE or --passphrase-file/);
    }
    expectError(await server.request('POST', `${base}/variables/${created.id}/rollback`, { token: owner.token, payload: { version: 1 } }), 409, 'CONFLICT');
  });
});
