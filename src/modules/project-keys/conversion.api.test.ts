import { describe, expect, it } from 'vitest';
import { expectError, expectInvalidField, useTestServer } from '../../../test/harness.js';
import { canary } from '../../../test/fixtures/encryption.js';
import { createProjectKey, decryptValue, encryptValue, unwrapProjectKey } from '../../cli/client-keys.js';
import type { ValueScope } from '../../kernel/crypto/client-envelope.js';
import { LocalKeyProvider } from '../../kernel/crypto/key-provider.js';
import { createKeyring } from '../../kernel/crypto/keyring.js';
import { openValue } from '../variables/sealed-value.js';

const server = useTestServer();
const PASSPHRASE = 'fake conversion passphrase';

interface Item {
  variable_id: string;
  key: string;
  type: string;
  scope: string;
  environment_id: string | null;
  service_id: string | null;
  assignee_user_id: string | null;
  version: number;
  value: string;
}

function scopeOf(item: Item): ValueScope {
  if (item.assignee_user_id) return { level: 'member', id: item.assignee_user_id };
  if (item.scope === 'environment') return { level: 'environment', id: item.environment_id! };
  if (item.scope === 'service') return { level: 'service', id: item.service_id! };
  return { level: 'project' };
}

/** A server-managed project `shop` with values at each scope, a member's override, an edited value (2 versions) and a deleted one. */
async function serverProject() {
  const { owner, org } = await server.tree();
  const base = `/orgs/${org}/projects/shop`;
  const canaries = { project: canary('P'), secret: canary('S'), file: canary('F'), member: canary('M'), old: canary('OLD'), deleted: canary('DEL') };
  await server.expect(201, 'POST', `${base}/variables`, { token: owner.token, payload: { key: 'P_PLAIN', value: canaries.project } });
  const edited = await server.expect(201, 'POST', `${base}/environments/production/variables`, { token: owner.token, payload: { key: 'E_SECRET', type: 'secret', value: canaries.old } });
  await server.expect(200, 'PATCH', `${base}/environments/production/variables/${edited.body.id}`, { token: owner.token, payload: { value: canaries.secret } });
  await server.expect(201, 'POST', `${base}/environments/production/services/backend/variables`, { token: owner.token, payload: { key: 'S_FILE', type: 'file', value: canaries.file, mount_path: '/etc/app/f' } });
  await server.expect(201, 'POST', `${base}/variables`, { token: owner.token, payload: { key: 'P_PLAIN', type: 'secret', value: canaries.member, assignee_user_id: owner.id } });
  const gone = await server.expect(201, 'POST', `${base}/variables`, { token: owner.token, payload: { key: 'GONE', type: 'secret', value: canaries.deleted } });
  await server.expect(204, 'DELETE', `${base}/variables/${gone.body.id}`, { token: owner.token });
  return { owner, org, base, canaries };
}

/** What `coffer projects encryption --to client` does: read in clear, encrypt each value at its next version under a new key bound to the project. */
async function toClient(token: string, base: string) {
  const read = (await server.expect(200, 'GET', `${base}/encryption/values`, { token })).body;
  const context = { organizationId: read.organization_id, projectId: read.project_id };
  const { key, wrapped } = await createProjectKey(PASSPHRASE, context);
  const values = (read.items as Item[]).map((item) => ({
    variable_id: item.variable_id,
    version: item.version + 1,
    value: encryptValue(key, item.value, { ...context, scope: scopeOf(item), key: item.key, version: item.version + 1, keyVersion: 1 }),
  }));
  return { read, key, context, body: { to: 'client', key: wrapped, values } };
}

/** Every stored version of the project's variables, opened with the server's own keys (root key and database). */
async function storedPlaintexts(projectId: string): Promise<string[]> {
  const keyring = createKeyring({ db: server.db, provider: new LocalKeyProvider(server.rootKey) });
  const rows = await server.db
    .selectFrom('variable_versions')
    .innerJoin('variables', 'variables.id', 'variable_versions.variable_id')
    .select(['variables.id', 'variables.name', 'variables.data_key_id', 'variable_versions.version', 'variable_versions.ciphertext'])
    .where('variables.project_id', '=', projectId)
    .execute();
  const keys = await keyring.byIds(server.db, rows.map((row) => row.data_key_id));
  return rows.filter((row) => row.ciphertext !== null).map((row) => openValue(keys.get(row.data_key_id)!, row, row.version, row.ciphertext!));
}

describe('converting a project between server- and client-managed keys', () => {
  it('converts to client in one audited request: each live value a new version of client ciphertext, older versions and deleted variables purged', async () => {
    const { owner, org, base, canaries } = await serverProject();
    const { read, key, context, body } = await toClient(owner.token, base);
    expect((read.items as Item[]).map((item) => item.value).sort()).toEqual([canaries.project, canaries.secret, canaries.file, canaries.member].sort());
    const converted = await server.expect(200, 'POST', `${base}/encryption`, { token: owner.token, payload: body });
    // Purged: the older versions of P_PLAIN (1), E_SECRET (2), S_FILE (1) and the member's (1), and GONE's two with it.
    expect(converted.body).toEqual({ encryption: 'client', reencrypted: 4, purged_versions: 7, purged_deleted_variables: 1 });
    expect((await server.expect(200, 'GET', base, { token: owner.token })).body.encryption).toBe('client');
    const material = (await server.expect(200, 'GET', `${base}/key`, { token: owner.token })).body;
    expect(await unwrapProjectKey(material, PASSPHRASE, context)).toEqual(key);

    // The server, with its root key and the whole database, now opens nothing but client ciphertext.
    const stored = await storedPlaintexts(context.projectId);
    expect(stored).toHaveLength(4);
    for (const value of stored) expect(value).toMatch(/^cfr-cmk:v1:1:/);
    const versions = (await server.expect(200, 'GET', `${base}/environments/production/variables/${(read.items as Item[]).find((i) => i.key === 'E_SECRET')!.variable_id}/versions`, { token: owner.token })).body.items;
    expect(versions.map((v: { version: number; value: string }) => [v.version, v.value])).toEqual([[3, '********']]);

    // Resolution answers ciphertext the client opens; the flat formats refuse.
    const resolved = (await server.expect(200, 'GET', `${base}/environments/production/services/backend/resolve`, { token: owner.token })).body;
    const secret = resolved.variables.find((v: { key: string }) => v.key === 'E_SECRET');
    expect(decryptValue(key, secret.value, { ...context, scope: { level: 'environment', id: resolved.binding.environment_id }, key: 'E_SECRET', version: 3 }, 1)).toBe(canaries.secret);
    expectError(await server.request('GET', `${base}/environments/production/resolve?format=dotenv`, { token: owner.token }), 409, 'CONFLICT');

    const events = (await server.expect(200, 'GET', `/orgs/${org}/audit-events?target_type=project`, { token: owner.token })).body.items;
    const conversion = events.filter((event: { change: string }) => /Converted project shop/.test(event.change));
    expect(conversion).toHaveLength(1);
    expect(conversion[0]).toMatchObject({ event_type: 'UPDATE', details: { before: { encryption: 'server' }, after: { encryption: 'client' }, reencrypted: 4, purged_versions: 7 } });
    expect(JSON.stringify(events)).not.toContain(canaries.secret);
  });

  it('converts back to server with the values in clear: resolution works again, the key is gone, client history purged', async () => {
    const { owner, base, canaries } = await serverProject();
    const first = await toClient(owner.token, base);
    await server.expect(200, 'POST', `${base}/encryption`, { token: owner.token, payload: first.body });
    const read = (await server.expect(200, 'GET', `${base}/encryption/values`, { token: owner.token })).body;
    expect(read).toMatchObject({ encryption: 'client', key_version: 1 });
    const values = (read.items as Item[]).map((item) => ({
      variable_id: item.variable_id,
      version: item.version + 1,
      value: decryptValue(first.key, item.value, { ...first.context, scope: scopeOf(item), key: item.key, version: item.version }, 1),
    }));
    const back = await server.expect(200, 'POST', `${base}/encryption`, { token: owner.token, payload: { to: 'server', current_key_version: 1, values } });
    expect(back.body).toEqual({ encryption: 'server', reencrypted: 4, purged_versions: 4, purged_deleted_variables: 0 });
    expect((await server.expect(200, 'GET', base, { token: owner.token })).body.encryption).toBe('server');
    expectError(await server.request('GET', `${base}/key`, { token: owner.token }), 409, 'CONFLICT');
    const flat = await server.expect(200, 'GET', `${base}/environments/production/services/backend/resolve?format=env-json`, { token: owner.token });
    expect(JSON.parse(flat.raw.body)).toMatchObject({ P_PLAIN: canaries.member, E_SECRET: canaries.secret, S_FILE: canaries.file });
    const stored = await storedPlaintexts(first.context.projectId);
    expect(stored.sort()).toEqual([canaries.project, canaries.secret, canaries.file, canaries.member].sort());
  });

  it('refuses with 409, writing nothing, when a value changed since the client read it or one is missing', async () => {
    const { owner, base } = await serverProject();
    const { read, body } = await toClient(owner.token, base);
    const item = (read.items as Item[]).find((i) => i.key === 'P_PLAIN' && !i.assignee_user_id)!;
    await server.expect(200, 'PATCH', `${base}/variables/${item.variable_id}`, { token: owner.token, payload: { value: 'fake-changed' } });
    const stale = await server.request('POST', `${base}/encryption`, { token: owner.token, payload: body });
    expectError(stale, 409, 'CONFLICT');
    expect(stale.body.error.message).toMatch(/P_PLAIN changed since you read it/);
    const missing = await server.request('POST', `${base}/encryption`, { token: owner.token, payload: { ...body, values: body.values.slice(1) } });
    expectError(missing, 409, 'CONFLICT');
    expect((await server.expect(200, 'GET', base, { token: owner.token })).body.encryption).toBe('server');
    expect((await server.expect(200, 'GET', `${base}/variables/${item.variable_id}/versions`, { token: owner.token })).body.items).toHaveLength(2);
  });

  it('refuses bad requests naming the field, a conversion to the model it has, plaintext sent as client ciphertext, and pg_service entries', async () => {
    const { owner, base } = await serverProject();
    const { body } = await toClient(owner.token, base);
    expectInvalidField(await server.request('POST', `${base}/encryption`, { token: owner.token, payload: { to: 'client', values: body.values } }), 'body.key');
    expectInvalidField(await server.request('POST', `${base}/encryption`, { token: owner.token, payload: { to: 'sideways', values: [] } }), 'body.to');
    expectError(await server.request('POST', `${base}/encryption`, { token: owner.token, payload: { to: 'server', current_key_version: 1, values: [] } }), 409, 'CONFLICT');
    const plaintext = { ...body, values: body.values.map((value, index) => (index === 0 ? { ...value, value: 'fake-plaintext' } : value)) };
    expectInvalidField(await server.request('POST', `${base}/encryption`, { token: owner.token, payload: plaintext }), 'body.values.0.value');
    await server.expect(201, 'POST', `${base}/variables`, { token: owner.token, payload: { type: 'pg_service', pg_service: { service: 'main', host: 'db.internal', dbname: 'app', user: 'app', password: 'fake-pass' } } });
    const withService = await server.request('POST', `${base}/encryption`, { token: owner.token, payload: body });
    expectError(withService, 409, 'CONFLICT', { pg_services: ['main'] });
    expect((await server.expect(200, 'GET', base, { token: owner.token })).body.encryption).toBe('server');
  });

  it('needs project:write: DEVOPS, who may decrypt every value, may neither read for nor make a conversion', async () => {
    const { owner, org, base } = await serverProject();
    const devops = await server.member(owner.token, org, 'DEVOPS');
    const { body } = await toClient(owner.token, base);
    expectError(await server.request('GET', `${base}/encryption/values`, { token: devops.token }), 403, 'FORBIDDEN', { action: 'project:write' });
    expectError(await server.request('POST', `${base}/encryption`, { token: devops.token, payload: body }), 403, 'FORBIDDEN', { action: 'project:write' });
  });
});
