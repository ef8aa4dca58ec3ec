import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, callListening, type RequestOptions, type Response } from '../../../test/harness.js';
import { loadConfig } from '../../config.js';
import { DecryptionError, open, valueAad } from '../../kernel/crypto/aead.js';
import { LocalKeyProvider } from '../../kernel/crypto/key-provider.js';
import { loggerOptions } from '../../kernel/http/logging.js';
import { runServer } from '../../server.js';

/**
 * SPEC §4 end to end: values are sealed at rest under per-project (or per-organization)
 * data keys wrapped by the root key, bound to their row and version, and no plaintext
 * secret reaches the database in clear, a log line, an error body or the data directory.
 */

const postgres = process.env.COFFER_TEST_BACKEND === 'postgres';

/** A value no test could produce by accident; each call is unique. */
const canary = (label: string) => `CANARY${label}x${randomBytes(12).toString('hex')}`;
const hex = (text: string) => Buffer.from(text, 'utf8').toString('hex');

let server: TestServer;
beforeAll(async () => {
  server = await TestServer.start();
});
afterAll(() => server?.close());

async function ids(org: string, project = 'shop') {
  const organization = await server.db.selectFrom('organizations').select('id').where('slug', '=', org).executeTakeFirstOrThrow();
  const proj = await server.db
    .selectFrom('projects')
    .select('id')
    .where('organization_id', '=', organization.id)
    .where('slug', '=', project)
    .executeTakeFirstOrThrow();
  return { organizationId: organization.id, projectId: proj.id };
}

/** Every row of `table` as PostgreSQL's text form: text and jsonb as they are, bytea as `\x<hex>`. */
async function rowsAsText(table: string): Promise<string[]> {
  const result = await sql<{ row: string }>`select t::text as row from ${sql.table(table)} t`.execute(server.db);
  return result.rows.map((r) => r.row);
}

/** The tables holding a canary in clear or in bytes (bytea shows as hex in the text form). */
async function tablesHolding(needle: string, tables: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const table of tables) {
    const rows = await rowsAsText(table);
    if (rows.some((row) => row.includes(needle) || row.toLowerCase().includes(hex(needle)))) found.push(table);
  }
  return found;
}

async function publicTables(): Promise<string[]> {
  const result = await sql<{ name: string }>`
    select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1
  `.execute(server.db);
  return result.rows.map((r) => r.name);
}

async function variableRow(id: string) {
  return server.db.selectFrom('variables').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function setCiphertext(id: string, ciphertext: Buffer) {
  await server.db.updateTable('variables').set({ ciphertext }).where('id', '=', id).execute();
}

const ENCRYPTED_TABLES = ['variables', 'variable_versions', 'data_keys'];

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

describe('tampered rows', () => {
  async function twoSecrets() {
    const { owner, org } = await server.tree();
    const project = `/orgs/${org}/projects/shop`;
    const valueA = canary('VALA');
    const valueB = canary('VALB');
    const a = await server.expect(201, 'POST', `${project}/variables`, { token: owner.token, payload: { key: 'ALPHA_KEY', type: 'secret', value: valueA } });
    const b = await server.expect(201, 'POST', `${project}/variables`, { token: owner.token, payload: { key: 'BRAVO_KEY', type: 'secret', value: valueB } });
    return { token: owner.token, org, project, valueA, valueB, a: a.body.id as string, b: b.body.id as string };
  }

  /** The management read, the listing and resolution all refuse, naming the variable and never a value. */
  async function expectRefused(
    setup: { token: string; project: string; b: string },
    name: string,
    version: number,
    secrets: string[],
  ) {
    const responses: Response[] = [
      await server.request('GET', `${setup.project}/variables/${setup.b}`, { token: setup.token }),
      await server.request('GET', `${setup.project}/variables`, { token: setup.token }),
      await server.request('GET', `${setup.project}/environments/production/resolve`, { token: setup.token }),
      await server.request('GET', `${setup.project}/environments/production/resolve?format=dotenv`, { token: setup.token }),
    ];
    for (const response of responses) {
      expect(response.status, response.raw.body).toBe(500);
      expect(response.body.error.code).toBe('DECRYPTION_FAILED');
      expect(response.body.error.message).toContain(name);
      expect(response.body.error.message).toContain(`version ${version}`);
      for (const secret of secrets) expect(response.raw.body).not.toContain(secret);
    }
  }

  it("refuses a ciphertext copied from another variable of the same project (same data key)", async () => {
    const setup = await twoSecrets();
    const rowA = await variableRow(setup.a);
    const rowB = await variableRow(setup.b);
    expect(rowA.data_key_id).toBe(rowB.data_key_id);

    await setCiphertext(setup.b, rowA.ciphertext!);
    await expectRefused(setup, 'BRAVO_KEY', 1, [setup.valueA, setup.valueB]);
    // A itself still reads; restoring B's own ciphertext makes it readable again.
    await server.expect(200, 'GET', `${setup.project}/variables/${setup.a}`, { token: setup.token });
    await setCiphertext(setup.b, rowB.ciphertext!);
    const resolved = await server.expect(200, 'GET', `${setup.project}/environments/production/resolve`, { token: setup.token });
    expect(resolved.body.variables).toEqual(
      expect.arrayContaining([expect.objectContaining({ key: 'ALPHA_KEY', value: setup.valueA }), expect.objectContaining({ key: 'BRAVO_KEY', value: setup.valueB })]),
    );
  });

  it('refuses a ciphertext copied from an organization variable (another data key)', async () => {
    const setup = await twoSecrets();
    const orgValue = canary('ORGVAL');
    const orgVariable = await server.expect(201, 'POST', `/orgs/${setup.org}/variables`, {
      token: setup.token,
      payload: { key: 'ORG_KEY', type: 'secret', value: orgValue },
    });
    const orgRow = await variableRow(orgVariable.body.id);
    await setCiphertext(setup.b, orgRow.ciphertext!);
    await expectRefused(setup, 'BRAVO_KEY', 1, [orgValue, setup.valueB]);
  });

  it('refuses a ciphertext with any one byte flipped (version, nonce, body, tag)', async () => {
    const setup = await twoSecrets();
    const original = (await variableRow(setup.b)).ciphertext!;
    for (const position of [0, 1, 12, 13, 13 + 5, original.length - 1]) {
      const flipped = Buffer.from(original);
      flipped[position]! ^= 0x01;
      await setCiphertext(setup.b, flipped);
      await expectRefused(setup, 'BRAVO_KEY', 1, [setup.valueA, setup.valueB]);
    }
    // Truncated to less than an envelope's overhead.
    await setCiphertext(setup.b, original.subarray(0, 20));
    await expectRefused(setup, 'BRAVO_KEY', 1, [setup.valueA, setup.valueB]);
    await setCiphertext(setup.b, original);
    await server.expect(200, 'GET', `${setup.project}/variables/${setup.b}`, { token: setup.token });
  });

  it("refuses an old version's ciphertext replayed onto the current row (the version is bound)", async () => {
    const setup = await twoSecrets();
    const newer = canary('VALB2');
    await server.expect(200, 'PATCH', `${setup.project}/variables/${setup.b}`, { token: setup.token, payload: { value: newer } });
    const current = await variableRow(setup.b);
    expect(current.version).toBe(2);
    const v1 = await server.db
      .selectFrom('variable_versions')
      .select('ciphertext')
      .where('variable_id', '=', setup.b)
      .where('version', '=', 1)
      .executeTakeFirstOrThrow();
    await setCiphertext(setup.b, v1.ciphertext!);
    await expectRefused(setup, 'BRAVO_KEY', 2, [setup.valueA, setup.valueB, newer]);
    // The history itself is intact and still lists (masked).
    const versions = await server.expect(200, 'GET', `${setup.project}/variables/${setup.b}/versions`, { token: setup.token });
    expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  });
});

/** A pino logger with the production options at debug, writing into memory. */
function memoryLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  return { logger: pino(loggerOptions('debug'), destination), lines };
}

describe('tampered data keys', () => {
  it('answers DECRYPTION_FAILED naming the data key when a wrapped key does not unwrap', async () => {
    const { owner, org } = await server.tree();
    await server.expect(201, 'POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'other' } });
    const { organizationId, projectId } = await ids(org, 'other');
    // A wrapped key this server's root key never made: altered, or from another installation.
    const planted = await server.db
      .insertInto('data_keys')
      .values({ organization_id: organizationId, project_id: projectId, provider: 'local:0000000000000000', wrapped: randomBytes(61) })
      .returning('id')
      .executeTakeFirstOrThrow();
    const refused = await server.request('POST', `/orgs/${org}/projects/other/variables`, { token: owner.token, payload: { key: 'K', type: 'secret', value: 'never-stored-value' } });
    expect(refused.status).toBe(500);
    expect(refused.body.error.code).toBe('DECRYPTION_FAILED');
    expect(refused.body.error.message).toContain(planted.id);
    expect(await server.db.selectFrom('variables').select('id').where('project_id', '=', projectId).execute()).toEqual([]);
  });
});

describe('logs and error bodies', () => {
  it('never carry a secret, through writes, resolutions, rollbacks and error paths', async () => {
    const { logger, lines } = memoryLogger();
    const logged = await TestServer.start({}, logger);
    const bodies: { label: string; status: number; body: string }[] = [];
    try {
      const { owner, org } = await logged.tree();
      const token = owner.token;
      const project = `/orgs/${org}/projects/shop`;
      const env = `${project}/environments/production`;
      const svc = `${env}/services/backend`;
      const secrets: string[] = [];
      const secretValue = (label: string) => {
        const value = canary(label);
        secrets.push(value);
        return value;
      };
      /** Sends the request and keeps its body; resolutions answer secrets by design, so only other bodies are checked. */
      const send = async (status: number, method: string, url: string, options: RequestOptions = {}) => {
        const response = await logged.request(method, url, { token, ...options });
        expect(response.status, `${method} ${url}: ${response.raw.body}`).toBe(status);
        if (!url.includes('/resolve')) bodies.push({ label: `${method} ${url}`, status, body: response.raw.body });
        return response;
      };

      // Writes and reads that succeed.
      const secret = await send(201, 'POST', `${project}/variables`, { payload: { key: 'API_KEY', type: 'secret', value: secretValue('S1') } });
      await send(201, 'POST', `${env}/variables`, { payload: { key: 'CERT', type: 'file', value: secretValue('F1'), mount_path: '/etc/cert.pem' } });
      const pg = await send(201, 'POST', `${svc}/variables`, {
        payload: { type: 'pg_service', pg_service: { service: 'main', host: 'db', user: 'app', password: secretValue('PG1') } },
      });
      const s2 = secretValue('S2');
      const pg2 = secretValue('PG2');
      await send(200, 'PATCH', `${project}/variables/${secret.body.id}`, { payload: { value: s2 } });
      await send(200, 'PATCH', `${svc}/variables/${pg.body.id}`, { payload: { value: `[main]\nhost=db\nuser=app\npassword=${pg2}\n` } });
      const immutable = await send(201, 'POST', `${project}/variables`, { payload: { key: 'FROZEN', type: 'secret', value: secretValue('IM'), immutable: true } });
      for (const format of ['json', 'env-json', 'dotenv', 'docker', 'shell', 'yaml', 'pg_service']) {
        const resolved = await send(200, 'GET', `${svc}/resolve?format=${format}`);
        expect(resolved.raw.body).toContain(format === 'pg_service' ? pg2 : s2);
      }
      await send(200, 'GET', `${project}/variables`);
      await send(200, 'GET', `${project}/variables/${secret.body.id}`);
      await send(200, 'GET', `${project}/variables/${secret.body.id}/versions`);
      await send(200, 'POST', `${project}/variables/${secret.body.id}/rollback`, { payload: { version: 1 } });
      await send(204, 'DELETE', `${project}/variables/${secret.body.id}`);
      await send(200, 'POST', `${project}/variables/${secret.body.id}/rollback`, { payload: { version: 2 } });
      await send(200, 'GET', `${env}/resolve`);

      // Refusals carrying a secret in the request.
      await send(400, 'POST', `${project}/variables`, { payload: { key: 'lowercase', type: 'secret', value: secretValue('BADKEY') } });
      await send(400, 'POST', `${project}/variables`, { payload: { key: 'OK_KEY', type: 'secret', value: secretValue('EXTRA'), bogus: secretValue('BOGUS') } });
      await send(400, 'POST', `${project}/variables`, { payload: { key: 'NUL_KEY', type: 'secret', value: `${secretValue('NUL')}\0` } });
      await send(400, 'POST', `${project}/variables`, { payload: { key: 'NO_MOUNT', type: 'file', value: secretValue('NOMOUNT') } });
      await send(400, 'POST', `${project}/variables`, { payload: { key: 'BAD_TYPE', type: secretValue('TYPE'), value: secretValue('TYPEVAL') } });
      await send(400, 'POST', `${project}/variables`, { payload: { key: 'NUM', type: 'secret', value: 12345, extra: secretValue('NUMX') } });
      await send(400, 'POST', `${svc}/variables`, {
        payload: { type: 'pg_service', value: `[other]\nhost=db\npassword ${secretValue('PGLINE')}\n` },
      });
      await send(400, 'POST', `${svc}/variables`, {
        payload: { type: 'pg_service', value: `[other]\nnot_a_keyword=${secretValue('PGKW')}\n` },
      });
      await send(400, 'POST', `${svc}/variables`, {
        payload: { type: 'pg_service', pg_service: { service: 'other', password: `${secretValue('PGWS')} ` } },
      });
      await send(400, 'POST', `${svc}/variables`, {
        payload: { type: 'pg_service', pg_service: { service: 'other', extra: { [secretValue('PGEXTRAKW')]: secretValue('PGEXTRAV') } } },
      });
      await send(409, 'POST', `${project}/variables`, { payload: { key: 'FROZEN', type: 'secret', value: secretValue('DUP') } });
      await send(409, 'PATCH', `${project}/variables/${immutable.body.id}`, { payload: { value: secretValue('IMPATCH') } });
      await send(400, 'PATCH', `${project}/variables/${immutable.body.id}`, { payload: { value: secretValue('PATCHX'), bogus: true } });
      await send(400, 'POST', `${project}/variables`, {
        payload: `{"key":"BROKEN","type":"secret","value":"${secretValue('JSON')}"`,
      });
      await send(415, 'POST', `${project}/variables`, {
        payload: `key=TEXT&value=${secretValue('TEXT')}`,
        headers: { 'content-type': 'text/plain' },
      });
      // A missing reference is refused at resolution, naming the keys involved only.
      await send(201, 'POST', `${svc}/variables`, { payload: { key: 'REFERS', type: 'secret', value: `${secretValue('REF')}-\${MISSING_ONE}` } });
      const unresolved = await send(422, 'GET', `${svc}/resolve`);
      bodies.push({ label: 'unresolved', status: 422, body: unresolved.raw.body });

      // A tampered row: every read of it fails with 500, and so does a write over it.
      const tampered = await send(201, 'POST', `${project}/variables`, { payload: { key: 'TAMPERED', type: 'secret', value: secretValue('TAMPER') } });
      const other = await logged.db.selectFrom('variables').select('ciphertext').where('id', '=', immutable.body.id).executeTakeFirstOrThrow();
      await logged.db.updateTable('variables').set({ ciphertext: other.ciphertext }).where('id', '=', tampered.body.id).execute();
      await send(500, 'GET', `${project}/variables/${tampered.body.id}`);
      await send(500, 'GET', `${project}/variables`);
      await send(500, 'PATCH', `${project}/variables/${tampered.body.id}`, { payload: { value: secretValue('OVERWRITE') } });
      const failed = await send(500, 'GET', `${env}/resolve`);
      bodies.push({ label: 'resolve of a tampered row', status: 500, body: failed.raw.body });

      // The capture works: request lines and the 500s' error lines are there.
      await new Promise((resolve) => setImmediate(resolve));
      const text = lines.join('');
      expect(text).toContain('"statusCode":500');
      expect(text).toContain('DECRYPTION_FAILED');
      expect(logger.level).toBe('debug');
      expect(text).toContain('"msg":"incoming request"');

      expect(secrets.length).toBeGreaterThan(25);
      for (const value of secrets) {
        const leakingLines = lines.filter((line) => line.includes(value));
        expect(leakingLines, `log lines carrying ${value}`).toEqual([]);
        const leakingBodies = bodies.filter((b) => b.body.includes(value));
        expect(leakingBodies, `response bodies carrying ${value}`).toEqual([]);
      }
    } finally {
      await logged.close();
    }
  });
});

describe.skipIf(postgres)('the data directory (embedded PGlite)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-at-rest-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function filesUnder(root: string): string[] {
    return fs.readdirSync(root, { withFileTypes: true, recursive: true }).filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
  }

  it('holds no secret in any file after the server wrote and read it', async () => {
    const { logger, lines } = memoryLogger();
    const config = loadConfig({
      PORT: '0',
      COFFER_DATA_DIR: path.join(dir, 'data'),
      COFFER_CHECKPOINT_DIR: path.join(dir, 'checkpoints'),
    });
    const secrets = [canary('DISK1'), canary('DISK2'), canary('DISKPG'), canary('DISKFILE')];
    const running = await runServer(config, logger);
    try {
      const call = (method: string, url: string, body?: unknown, token?: string) => callListening(running.address, method, url, body, token);
      const credentials = { email: 'disk@example.test', password: 'correct horse battery staple' };
      await call('POST', '/auth/signup', { ...credentials, name: 'disk' });
      const token = (await call('POST', '/auth/login', credentials)).token as string;
      await call('POST', '/orgs', { slug: 'disk' }, token);
      await call('POST', '/orgs/disk/projects', { slug: 'shop' }, token);
      await call('POST', '/orgs/disk/projects/shop/environments', { slug: 'production', type: 'PRODUCTION' }, token);
      await call('POST', '/orgs/disk/variables', { key: 'ORG_SECRET', type: 'secret', value: secrets[0] }, token);
      const created = await call('POST', '/orgs/disk/projects/shop/variables', { key: 'API_KEY', type: 'secret', value: 'first version' }, token);
      await call('PATCH', `/orgs/disk/projects/shop/variables/${String(created.id)}`, { value: secrets[1] }, token);
      await call('POST', '/orgs/disk/projects/shop/environments/production/variables', {
        type: 'pg_service',
        pg_service: { service: 'main', host: 'db', user: 'app', password: secrets[2] },
      }, token);
      await call('POST', '/orgs/disk/projects/shop/environments/production/variables', { key: 'CERT', type: 'file', value: secrets[3], mount_path: '/etc/cert' }, token);
      const resolved = JSON.stringify(await call('GET', '/orgs/disk/projects/shop/environments/production/resolve', undefined, token));
      for (const secret of secrets) expect(resolved).toContain(secret);
    } finally {
      await running.close();
    }

    const files = filesUnder(dir);
    // Sanity: the database, the root key and the checkpoints are all under the scanned directory.
    expect(files.some((file) => file.endsWith(path.join('data', 'root.key')))).toBe(true);
    expect(files.filter((file) => file.includes(`${path.sep}pgdata${path.sep}`)).length).toBeGreaterThan(10);
    // The scan reads what the database wrote in clear: the account's email is on disk.
    expect(files.some((file) => fs.readFileSync(file).includes(Buffer.from('disk@example.test')))).toBe(true);
    for (const secret of secrets) {
      const needle = Buffer.from(secret, 'utf8');
      expect(files.filter((file) => fs.readFileSync(file).includes(needle)), `files holding ${secret}`).toEqual([]);
      expect(lines.filter((line) => line.includes(secret))).toEqual([]);
    }
  }, 120_000);
});
