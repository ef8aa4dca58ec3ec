import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecryptionError, open, valueAad } from '../../kernel/crypto/aead.js';
import { LocalKeyProvider } from '../../kernel/crypto/key-provider.js';
import { canary, server, ids, rowsAsText, tablesHolding, publicTables, variableRow, ENCRYPTED_TABLES } from '../../../test/fixtures/encryption.js';

describe('values at rest', () => {
  it('leaves no plaintext in variables, versions, data keys or audit events (nor any other table)', async () => {
    const { owner, org } = await server.tree();
    const token = owner.token;
    const project = `/orgs/${org}/projects/shop`;
    const env = `${project}/environments/production`;
    const svc = `${env}/services/backend`;

    const values = {
      orgSecret: canary('ORG'),
      secret: canary('SECRET'),
      secretUpdate: canary('UPDATE'),
      file: canary('FILE'),
      pgPassword: canary('PGPASS'),
      pgExtra: canary('PGEXTRA'),
      plain: canary('PLAIN'),
    };

    await server.expect(201, 'POST', `/orgs/${org}/variables`, { token, payload: { key: 'ORG_TOKEN', type: 'secret', value: values.orgSecret } });
    const secret = await server.expect(201, 'POST', `${project}/variables`, { token, payload: { key: 'API_KEY', type: 'secret', value: values.secret } });
    await server.expect(201, 'POST', `${env}/variables`, {
      token,
      payload: { key: 'TLS_KEY', type: 'file', value: `-----BEGIN KEY-----\n${values.file}\n-----END KEY-----\n`, mount_path: '/etc/tls/key.pem' },
    });
    await server.expect(201, 'POST', `${svc}/variables`, {
      token,
      payload: {
        type: 'pg_service',
        pg_service: { service: 'main', host: 'db.internal', port: 5432, dbname: 'shop', user: 'app', password: values.pgPassword, extra: { sslpassword: values.pgExtra } },
      },
    });
    await server.expect(201, 'POST', `${project}/variables`, { token, payload: { key: 'GREETING', type: 'plain', value: values.plain } });
    // A new version and a rollback: both versions and their audit before/after exist.
    await server.expect(200, 'PATCH', `${project}/variables/${secret.body.id}`, { token, payload: { value: values.secretUpdate } });
    await server.expect(200, 'POST', `${project}/variables/${secret.body.id}/rollback`, { token, payload: { version: 1 } });

    // The values are all there, in clear, through resolution (and READ_SECRET was recorded).
    const resolved = await server.expect(200, 'GET', `${svc}/resolve`, { token });
    const byKey = Object.fromEntries((resolved.body.variables as { key: string; value: string }[]).map((v) => [v.key, v.value]));
    expect(byKey.ORG_TOKEN).toBe(values.orgSecret);
    expect(byKey.API_KEY).toBe(values.secret);
    expect(byKey.GREETING).toBe(values.plain);
    expect(resolved.body.pg_services).toEqual([expect.objectContaining({ service: 'main', password: values.pgPassword, extra: { sslpassword: values.pgExtra } })]);
    expect(JSON.stringify(resolved.body)).toContain(values.file);

    const { organizationId } = await ids(org);
    // Sanity: the scanned tables do hold this organization's rows.
    expect(await server.db.selectFrom('variables').select('id').where('organization_id', '=', organizationId).execute()).toHaveLength(5);
    const versionCount = await server.db
      .selectFrom('variable_versions')
      .innerJoin('variables', 'variables.id', 'variable_versions.variable_id')
      .select('variable_versions.version')
      .where('variables.organization_id', '=', organizationId)
      .execute();
    expect(versionCount).toHaveLength(7);
    const audit = await server.db.selectFrom('audit_events').select(['event_type']).where('organization_id', '=', organizationId).execute();
    expect(audit.map((e) => e.event_type)).toEqual(expect.arrayContaining(['CREATE', 'UPDATE', 'READ_SECRET']));

    // The scan sees text columns and bytea (as hex): it finds what is stored in clear.
    expect(await tablesHolding(`${org}`, ['organizations'])).toEqual(['organizations']);
    const stored = await variableRow(secret.body.id);
    expect((await rowsAsText('variables')).some((row) => row.includes(stored.ciphertext!.toString('hex')))).toBe(true);

    const concealed = [values.orgSecret, values.secret, values.secretUpdate, values.file, values.pgPassword, values.pgExtra];
    for (const value of concealed) {
      expect(await tablesHolding(value, [...ENCRYPTED_TABLES, 'audit_events'])).toEqual([]);
      // Nowhere else either (security events, settings, sessions, …).
      expect(await tablesHolding(value, await publicTables())).toEqual([]);
    }
    // A plain value is encrypted at rest too. (Its audit events carry it in clear by design:
    // SPEC §6 redacts secrets only, and plain values are readable with secret:read.)
    expect(await tablesHolding(values.plain, ENCRYPTED_TABLES)).toEqual([]);
  });

  it('seals each value with a fresh nonce: the same value twice gives different ciphertexts', async () => {
    const { owner, org } = await server.tree();
    const project = `/orgs/${org}/projects/shop`;
    const same = canary('SAME');
    const a = await server.expect(201, 'POST', `${project}/variables`, { token: owner.token, payload: { key: 'SAME_A', type: 'secret', value: same } });
    const b = await server.expect(201, 'POST', `${project}/variables`, { token: owner.token, payload: { key: 'SAME_B', type: 'secret', value: same } });
    const rowA = await variableRow(a.body.id);
    const rowB = await variableRow(b.body.id);
    expect(rowA.data_key_id).toBe(rowB.data_key_id);
    const ctA = rowA.ciphertext!;
    const ctB = rowB.ciphertext!;
    // version byte ‖ 12-byte nonce ‖ ciphertext ‖ 16-byte tag
    expect(ctA.length).toBe(1 + 12 + Buffer.byteLength(same) + 16);
    expect(ctB.length).toBe(ctA.length);
    expect(ctA[0]).toBe(1);
    expect(ctA.equals(ctB)).toBe(false);
    expect(ctA.subarray(1, 13).equals(ctB.subarray(1, 13))).toBe(false);

    // Both open under the project's data key, each only with its own variable id and version.
    const dataKey = await server.db.selectFrom('data_keys').select('wrapped').where('id', '=', rowA.data_key_id).executeTakeFirstOrThrow();
    const key = await new LocalKeyProvider(server.rootKey).unwrap(dataKey.wrapped);
    expect(open(key, ctA, valueAad(rowA.id, 1)).toString('utf8')).toBe(same);
    expect(open(key, ctB, valueAad(rowB.id, 1)).toString('utf8')).toBe(same);
    expect(() => open(key, ctA, valueAad(rowB.id, 1))).toThrow(DecryptionError);
    expect(() => open(key, ctA, valueAad(rowA.id, 2))).toThrow(DecryptionError);
  });

  it('keeps one wrapped data key per project and one for the organization', async () => {
    const { owner, org } = await server.tree();
    const token = owner.token;
    const { organizationId, projectId } = await ids(org);
    const keysOf = () => server.db.selectFrom('data_keys').selectAll().where('organization_id', '=', organizationId).execute();
    // The tree's service has outputs, sealed under the project's key: the only key so far.
    expect((await keysOf()).map((key) => key.project_id)).toEqual([projectId]);

    await server.expect(201, 'POST', `/orgs/${org}/variables`, { token, payload: { key: 'ORG_A', type: 'secret', value: canary('A') } });
    await server.expect(201, 'POST', `/orgs/${org}/variables`, { token, payload: { key: 'ORG_B', value: 'plain one' } });
    await server.expect(201, 'POST', `/orgs/${org}/projects/shop/variables`, { token, payload: { key: 'P_A', type: 'secret', value: canary('B') } });
    await server.expect(201, 'POST', `/orgs/${org}/projects/shop/environments/production/variables`, { token, payload: { key: 'E_A', type: 'secret', value: canary('C') } });
    await server.expect(201, 'POST', `/orgs/${org}/projects/shop/environments/production/services/backend/variables`, {
      token,
      payload: { key: 'S_A', type: 'secret', value: canary('D') },
    });
    let keys = await keysOf();
    expect(keys).toHaveLength(2);
    const orgKey = keys.find((k) => k.project_id === null)!;
    const projectKey = keys.find((k) => k.project_id === projectId)!;
    expect(orgKey).toBeDefined();
    expect(projectKey).toBeDefined();

    // Environment and service variables use their project's key; organization ones the organization's.
    const variables = await server.db.selectFrom('variables').select(['name', 'data_key_id']).where('organization_id', '=', organizationId).execute();
    for (const variable of variables) {
      expect(variable.data_key_id, variable.name).toBe(variable.name.startsWith('ORG_') ? orgKey.id : projectKey.id);
    }

    // A second project gets its own key.
    await server.expect(201, 'POST', `/orgs/${org}/projects`, { token, payload: { slug: 'depot' } });
    await server.expect(201, 'POST', `/orgs/${org}/projects/depot/variables`, { token, payload: { key: 'D_A', type: 'secret', value: canary('E') } });
    keys = await keysOf();
    expect(keys).toHaveLength(3);
    expect(new Set(keys.map((k) => k.project_id)).size).toBe(3);

    const provider = new LocalKeyProvider(server.rootKey);
    const unwrapped: string[] = [];
    for (const key of keys) {
      // An envelope (version ‖ nonce ‖ 32-byte key sealed ‖ tag), never the raw key.
      expect(key.wrapped.length).not.toBe(32);
      expect(key.wrapped.length).toBe(1 + 12 + 32 + 16);
      expect(key.provider.startsWith('local:')).toBe(true);
      expect(key.provider).toBe(provider.id);
      const dataKey = await provider.unwrap(key.wrapped);
      expect(dataKey).toHaveLength(32);
      expect(key.wrapped.includes(dataKey)).toBe(false);
      unwrapped.push(dataKey.toString('hex'));
    }
    expect(new Set(unwrapped).size).toBe(3);
    // Another root key cannot unwrap them.
    await expect(new LocalKeyProvider(randomBytes(32)).unwrap(keys[0]!.wrapped)).rejects.toBeInstanceOf(DecryptionError);
  });
});
