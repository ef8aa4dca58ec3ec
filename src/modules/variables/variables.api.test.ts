import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Response, useTestServer } from '../../../test/harness.js';

/**
 * Variables and secrets through the management API (SPEC §2–§3, §6, §7): the four scopes,
 * masking, validation, conflicts, versions and rollback, listing, permissions, audit events,
 * and that no clear secret ever leaves through a management response or the audit log.
 */

const server = useTestServer();

type Scope = 'organization' | 'project' | 'environment' | 'service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const MASK = '********';

const envBase = (org: string, env = 'production') => `/orgs/${org}/projects/shop/environments/${env}`;

/** The variables collection of each scope, in the tree server.tree() builds. */
const URLS: Record<Scope, (org: string) => string> = {
  organization: (org) => `/orgs/${org}/variables`,
  project: (org) => `/orgs/${org}/projects/shop/variables`,
  environment: (org) => `${envBase(org)}/variables`,
  service: (org) => `${envBase(org)}/services/backend/variables`,
};
const SCOPES = Object.keys(URLS) as Scope[];

/** How the audit `change` line names each place. */
const PLACE: Record<Scope, (org: string) => string> = {
  organization: (org) => `organization ${org}`,
  project: () => 'shop',
  environment: () => 'shop/production',
  service: () => 'shop/production/backend',
};

/** An owner and an organization with shop/production(PRODUCTION)/backend. */
async function tree() {
  return server.tree('owner');
}

async function create(token: string, url: string, payload: Record<string, unknown>) {
  return (await server.expect(201, 'POST', url, { token, payload })).body;
}

async function listAll(token: string, url: string) {
  return (await server.expect(200, 'GET', url, { token })).body.items as { key: string | null; id: string }[];
}

async function auditEvents(org: string, token: string, query = 'target_type=variable') {
  return (await server.expect(200, 'GET', `/orgs/${org}/audit-events?${query}&limit=500`, { token })).body.items as {
    event_type: string;
    target_type: string;
    target_id: string | null;
    change: string;
    details: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- audit details are free-form JSON
    actor: { type: string; id: string | null; name: string };
  }[];
}

async function orgId(org: string, token: string): Promise<string> {
  return (await server.expect(200, 'GET', `/orgs/${org}`, { token })).body.id;
}

async function variableRows(organizationId: string) {
  return server.db.selectFrom('variables').select(['id', 'name']).where('organization_id', '=', organizationId).execute();
}

async function resolved(org: string, token: string, env = 'production') {
  const body = (await server.expect(200, 'GET', `${envBase(org, env)}/resolve`, { token })).body as {
    variables: { key: string; value: string }[];
  };
  return Object.fromEntries(body.variables.map((v) => [v.key, v.value]));
}

/** Asserts a 400 that names `field` in details.field and in the message. */
function expectInvalid(response: Response, bodyField: string, reason?: RegExp) {
  const field = bodyField.startsWith('body.') ? bodyField : `body.${bodyField}`;
  expect(response.status, JSON.stringify(response.body)).toBe(400);
  expect(response.body.error.code).toBe('VALIDATION_FAILED');
  expect(response.body.error.details.field).toBe(field);
  expect(response.body.error.message).toContain(field);
  if (reason) expect(response.body.error.message).toMatch(reason);
}

function expectForbidden(response: Response, action: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(403);
  expect(response.body.error.code).toBe('FORBIDDEN');
  expect(response.body.error.details.action).toBe(action);
  expect(response.body.error.message).toContain(action);
}

const canaryOf = () => `CANARY${randomBytes(8).toString('hex').toUpperCase()}`;

describe('variables: create, read, update and delete at each scope', () => {
  it.each(SCOPES)('creates a plain variable at %s scope with 201 and its full view', async (scope) => {
    const { owner, org } = await tree();
    const response = await server.expect(201, 'POST', URLS[scope](org), {
      token: owner.token,
      payload: { key: 'LOG_LEVEL', value: 'debug' },
    });
    expect(response.body).toEqual({
      id: expect.stringMatching(UUID),
      scope,
      key: 'LOG_LEVEL',
      type: 'plain',
      value: 'debug',
      mount_path: null,
      immutable: false,
      version: 1,
      assignee_user_id: null,
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
    });
  });

  it.each(SCOPES)('reads a %s variable by id and lists it', async (scope) => {
    const { owner, org } = await tree();
    const created = await create(owner.token, URLS[scope](org), { key: 'API_URL', value: 'https://api.example' });
    const got = await server.expect(200, 'GET', `${URLS[scope](org)}/${created.id}`, { token: owner.token });
    expect(got.body).toEqual(created);
    const list = await server.expect(200, 'GET', URLS[scope](org), { token: owner.token });
    expect(list.body).toEqual({ items: [created], next_cursor: null });
  });

  it.each(SCOPES)('updates a %s variable with PATCH: a new version, the new value, the same id', async (scope) => {
    const { owner, org } = await tree();
    const created = await create(owner.token, URLS[scope](org), { key: 'WORKERS', value: '2' });
    const patched = await server.expect(200, 'PATCH', `${URLS[scope](org)}/${created.id}`, { token: owner.token, payload: { value: '8' } });
    expect(patched.body).toMatchObject({ id: created.id, scope, key: 'WORKERS', type: 'plain', value: '8', version: 2, created_at: created.created_at });
    const got = await server.expect(200, 'GET', `${URLS[scope](org)}/${created.id}`, { token: owner.token });
    expect(got.body).toEqual(patched.body);
  });

  it.each(SCOPES)('deletes a %s variable with 204; it then answers 404 and is no longer listed', async (scope) => {
    const { owner, org } = await tree();
    const created = await create(owner.token, URLS[scope](org), { key: 'OLD', value: 'x' });
    const deleted = await server.expect(204, 'DELETE', `${URLS[scope](org)}/${created.id}`, { token: owner.token });
    expect(deleted.raw.body).toBe('');
    const got = await server.expect(404, 'GET', `${URLS[scope](org)}/${created.id}`, { token: owner.token });
    expect(got.body.error.code).toBe('NOT_FOUND');
    expect(await listAll(owner.token, URLS[scope](org))).toEqual([]);
    await server.expect(404, 'DELETE', `${URLS[scope](org)}/${created.id}`, { token: owner.token });
    await server.expect(404, 'PATCH', `${URLS[scope](org)}/${created.id}`, { token: owner.token, payload: { value: 'y' } });
  });

  it.each(SCOPES)('creates secret, file and pg_service entries at %s scope', async (scope) => {
    const { owner, org } = await tree();
    const url = URLS[scope](org);
    const secret = await create(owner.token, url, { key: 'TOKEN', type: 'secret', value: 'tok-abcdefghijklmnopqrstuvwxyz' });
    expect(secret).toMatchObject({ scope, key: 'TOKEN', type: 'secret', value: `tok${MASK}xyz`, mount_path: null });
    const file = await create(owner.token, url, { key: 'TLS_KEY', type: 'file', value: '-----BEGIN KEY-----\nabc\n', mount_path: '/etc/tls/key.pem' });
    expect(file).toMatchObject({ scope, key: 'TLS_KEY', type: 'file', value: `---${MASK}bc\n`, mount_path: '/etc/tls/key.pem' });
    const pg = await create(owner.token, url, {
      type: 'pg_service',
      pg_service: { service: 'main', host: 'db.internal', port: 5432, dbname: 'shop', user: 'app', password: 'pw-1234567890-abcdefgh-xyz', sslmode: 'require' },
    });
    expect(pg).toEqual({
      id: expect.stringMatching(UUID),
      scope,
      key: null,
      type: 'pg_service',
      value: null,
      pg_service: { service: 'main', host: MASK, port: 5432, dbname: MASK, user: MASK, password: `pw-${MASK}xyz`, sslmode: 'require', extra: {} },
      mount_path: null,
      immutable: false,
      version: 1,
      assignee_user_id: null,
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
    });
  });

  it('creates an immutable variable and a project variable assigned to a member', async () => {
    const { owner, org } = await tree();
    const member = await server.member(owner.token, org, 'DEVELOPER');
    const frozen = await create(owner.token, URLS.environment(org), { key: 'REGION', value: 'eu-west-1', immutable: true });
    expect(frozen.immutable).toBe(true);
    const assigned = await create(owner.token, URLS.project(org), { key: 'DEBUG', value: 'true', assignee_user_id: member.id });
    expect(assigned).toMatchObject({ scope: 'project', key: 'DEBUG', assignee_user_id: member.id });
  });

  it('changes a secret into a file and back (mount_path follows the type)', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    const created = await create(owner.token, url, { key: 'CERT', type: 'secret', value: 'certificate-contents-pem-body' });
    const asFile = await server.expect(200, 'PATCH', `${url}/${created.id}`, { token: owner.token, payload: { type: 'file', mount_path: '/etc/cert.pem' } });
    expect(asFile.body).toMatchObject({ type: 'file', mount_path: '/etc/cert.pem', value: `cer${MASK}ody`, version: 2 });
    const asSecret = await server.expect(200, 'PATCH', `${url}/${created.id}`, { token: owner.token, payload: { type: 'secret' } });
    expect(asSecret.body).toMatchObject({ type: 'secret', mount_path: null, version: 3 });
  });
});

describe('variables: masking (SPEC §3)', () => {
  it.each([
    ['12 characters (half of it would show under the old rule)', 'abcdefghijkl', MASK],
    ['23 characters', 'abcdefghijklmnopqrstuvw', MASK],
    ['24 characters', 'abcdefghijklmnopqrstuvwx', `abc${MASK}vwx`],
    ['a long value', 'canary_secret_0123456789abcdef', `can${MASK}def`],
    ['one character', 'x', MASK],
    ['24 unicode characters', '日本語のパスワード秘密です日本語のパスワード秘密', `日本語${MASK}ド秘密`],
    ['24 astral characters', '🔐🔑🗝abcdefghijklmnopqr🔒🔓🛡', `🔐🔑🗝${MASK}🔒🔓🛡`],
    ['23 code points in 29 UTF-16 units', 'abcdefghijklmnopq🔐🔐🔐🔐🔐🔐', MASK],
  ])('masks a secret of %s', async (_label, value, shown) => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    const created = await create(owner.token, url, { key: 'S', type: 'secret', value });
    expect(created.value).toBe(shown);
    expect((await server.expect(200, 'GET', `${url}/${created.id}`, { token: owner.token })).body.value).toBe(shown);
    expect((await listAll(owner.token, url))[0]).toMatchObject({ value: shown });
    const versions = await server.expect(200, 'GET', `${url}/${created.id}/versions`, { token: owner.token });
    expect(versions.body.items[0].value).toBe(shown);
  });

  it('masks file contents the same way and shows plain values in clear', async () => {
    const { owner, org } = await tree();
    const url = URLS.project(org);
    const shortFile = await create(owner.token, url, { key: 'SHORT', type: 'file', value: 'abcdefghijk', mount_path: '/a' });
    const longFile = await create(owner.token, url, { key: 'LONG', type: 'file', value: 'abcdefghijklmnopqrstuvwx', mount_path: '/b' });
    const plain = await create(owner.token, url, { key: 'PLAIN', value: 'a plain value that is long' });
    expect(shortFile.value).toBe(MASK);
    expect(longFile.value).toBe(`abc${MASK}vwx`);
    expect(plain.value).toBe('a plain value that is long');
  });

  it('masks every pg_service field but the service name, port and sslmode (a pg_service entry is always a secret)', async () => {
    const { owner, org } = await tree();
    const url = URLS.service(org);
    const created = await create(owner.token, url, {
      type: 'pg_service',
      pg_service: {
        service: 'analytics',
        host: 'warehouse.internal',
        port: 6432,
        dbname: 'dwh',
        user: 'reporter',
        password: 'short-pw',
        sslmode: 'verify-full',
        extra: { application_name: 'coffer-reporting', connect_timeout: '10', sslpassword: 'client-key-passphrase-for-tls' },
      },
    });
    const expected = {
      service: 'analytics',
      host: MASK,
      port: 6432,
      dbname: MASK,
      user: MASK,
      password: MASK,
      sslmode: 'verify-full',
      extra: { application_name: MASK, connect_timeout: MASK, sslpassword: `cli${MASK}tls` },
    };
    expect(created).toMatchObject({ key: null, value: null, pg_service: expected });
    expect((await server.expect(200, 'GET', `${url}/${created.id}`, { token: owner.token })).body.pg_service).toEqual(expected);
    expect((await listAll(owner.token, url))[0]).toMatchObject({ key: null, value: null, pg_service: expected });
    const versions = await server.expect(200, 'GET', `${url}/${created.id}/versions`, { token: owner.token });
    expect(versions.body.items[0]).toMatchObject({ type: 'pg_service', value: null, pg_service: expected });
  });

  it('accepts a raw pg_service.conf section and shows it structured and masked', async () => {
    const { owner, org } = await tree();
    const created = await create(owner.token, URLS.environment(org), {
      type: 'pg_service',
      value: '# primary\n[main]\nhost=db.internal\nport=5432\ndbname=shop\nuser=app\npassword=raw-password-abcdefghijkl-1234\nconnect_timeout=5\n',
    });
    expect(created).toMatchObject({
      key: null,
      value: null,
      pg_service: { service: 'main', host: MASK, port: 5432, dbname: MASK, user: MASK, password: `raw${MASK}234`, extra: { connect_timeout: MASK } },
    });
  });

  it('never shows the clear value of a secret in POST, PATCH, GET, list, versions or rollback', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    const first = `first-${canaryOf()}-secret`;
    const second = `second-${canaryOf()}-secret`;
    const seen: unknown[] = [];
    const created = await create(owner.token, url, { key: 'DB_PASSWORD', type: 'secret', value: first });
    seen.push(created);
    seen.push((await server.expect(200, 'PATCH', `${url}/${created.id}`, { token: owner.token, payload: { value: second } })).body);
    seen.push((await server.expect(200, 'GET', `${url}/${created.id}`, { token: owner.token })).body);
    seen.push((await server.expect(200, 'GET', url, { token: owner.token })).body);
    seen.push((await server.expect(200, 'GET', `${url}/${created.id}/versions`, { token: owner.token })).body);
    seen.push((await server.expect(200, 'POST', `${url}/${created.id}/rollback`, { token: owner.token, payload: { version: 1 } })).body);
    seen.push((await server.expect(200, 'GET', `${url}/${created.id}/versions`, { token: owner.token })).body);
    const text = JSON.stringify(seen);
    for (const value of [first, second]) {
      expect(text).not.toContain(value);
      expect(text).not.toContain(value.slice(3, -3));
    }
    // ...while resolution (secret:decrypt) still gives the restored value in clear.
    expect((await resolved(org, owner.token)).DB_PASSWORD).toBe(first);
  });
});

describe('variables: validation (400 naming the field)', () => {
  const url = (org: string) => URLS.environment(org);
  const post = (token: string, org: string, payload: unknown) => server.request('POST', url(org), { token, payload });

  it('refuses a missing key', async () => {
    const { owner, org } = await tree();
    expectInvalid(await post(owner.token, org, { value: 'x' }), 'key', /required/);
    expectInvalid(await post(owner.token, org, { key: '', value: 'x' }), 'key', /required/);
  });

  it.each([
    ['lower-case', 'db_password'],
    ['mixed-case', 'Db_Password'],
    ['starting with a digit', '1PASSWORD'],
    ['with a dash', 'DB-PASSWORD'],
    ['with a space', 'DB PASSWORD'],
  ])('refuses a %s key', async (_label, key) => {
    const { owner, org } = await tree();
    expectInvalid(await post(owner.token, org, { key, value: 'x' }), 'key', /\^\[A-Z_\]\[A-Z0-9_\]\*\$/);
  });

  it('accepts a key of 256 characters and refuses one of 257', async () => {
    const { owner, org } = await tree();
    await server.expect(201, 'POST', url(org), { token: owner.token, payload: { key: 'K'.repeat(256), value: 'x' } });
    expectInvalid(await post(owner.token, org, { key: 'K'.repeat(257), value: 'x' }), 'key', /256/);
  });

  it('accepts a value of 65536 bytes and refuses 65537, counting UTF-8 bytes', async () => {
    const { owner, org } = await tree();
    await server.expect(201, 'POST', url(org), { token: owner.token, payload: { key: 'ASCII_MAX', value: 'a'.repeat(65536) } });
    await server.expect(201, 'POST', url(org), { token: owner.token, payload: { key: 'UTF8_MAX', type: 'secret', value: 'é'.repeat(32768) } });
    expectInvalid(await post(owner.token, org, { key: 'ASCII_OVER', value: 'a'.repeat(65537) }), 'value', /65537 bytes/);
    // 32769 characters, 65538 bytes: a character count would let it through.
    expectInvalid(await post(owner.token, org, { key: 'UTF8_OVER', type: 'secret', value: 'é'.repeat(32769) }), 'value', /65538 bytes/);
  });

  it('accepts a file of 1 MiB and refuses one byte more', async () => {
    const { owner, org } = await tree();
    await server.expect(201, 'POST', url(org), { token: owner.token, payload: { key: 'BIG', type: 'file', value: 'f'.repeat(1024 * 1024), mount_path: '/big' } });
    expectInvalid(await post(owner.token, org, { key: 'BIGGER', type: 'file', value: 'f'.repeat(1024 * 1024 + 1), mount_path: '/bigger' }), 'value', /1048576/);
  });

  it('refuses a NUL character in a value', async () => {
    const { owner, org } = await tree();
    expectInvalid(await post(owner.token, org, { key: 'NUL', value: 'a\u0000b' }), 'value', /NUL/);
  });

  it('refuses a file without mount_path, a relative mount_path and a mount_path on a plain variable', async () => {
    const { owner, org } = await tree();
    expectInvalid(await post(owner.token, org, { key: 'F', type: 'file', value: 'x' }), 'mount_path', /required/);
    expectInvalid(await post(owner.token, org, { key: 'F', type: 'file', value: 'x', mount_path: 'etc/f' }), 'mount_path', /absolute/);
    expectInvalid(await post(owner.token, org, { key: 'P', value: 'x', mount_path: '/etc/p' }), 'mount_path', /file/);
  });

  it('refuses a pg_service entry with a key, or with both value and pg_service', async () => {
    const { owner, org } = await tree();
    expectInvalid(await post(owner.token, org, { type: 'pg_service', key: 'DB', pg_service: { service: 'main' } }), 'key');
    expectInvalid(
      await post(owner.token, org, { type: 'pg_service', value: '[main]\nhost=db\n', pg_service: { service: 'main' } }),
      'pg_service',
    );
    expectInvalid(await post(owner.token, org, { type: 'pg_service' }), 'pg_service');
  });

  it('refuses a raw pg_service section with a bad line, naming the line and never the password', async () => {
    const { owner, org } = await tree();
    const password = `pw-${canaryOf()}`;
    const response = await post(owner.token, org, { type: 'pg_service', value: `[main]\nhost=db\npassword=${password}\nthis is not a keyword line\n` });
    expectInvalid(response, 'value', /line 4/);
    expect(JSON.stringify(response.body)).not.toContain(password);
    const badPort = await post(owner.token, org, { type: 'pg_service', value: `[main]\npassword=${password}\nport=${password}\n` });
    expectInvalid(badPort, 'value', /line 3/);
    expect(JSON.stringify(badPort.body)).not.toContain(password);
  });

  it('refuses an unknown type and an unknown body field (schema validation names body.<field>)', async () => {
    const { owner, org } = await tree();
    const type = await post(owner.token, org, { key: 'T', type: 'password', value: 'x' });
    expectInvalid(type, 'body.type');
    const extra = await post(owner.token, org, { key: 'T', value: 'x', sensitive: true });
    expectInvalid(extra, 'body.sensitive', /not a known field/);
    const patchExtra = await server.request('PATCH', `${url(org)}/${randomUUID()}`, { token: owner.token, payload: { key: 'RENAMED' } });
    expectInvalid(patchExtra, 'body.key', /not a known field/);
  });

  it('refuses assignee_user_id outside project scope and for a non-member', async () => {
    const { owner, org } = await tree();
    const member = await server.member(owner.token, org, 'DEVELOPER');
    const stranger = await server.user('stranger');
    expectInvalid(await post(owner.token, org, { key: 'A', value: 'x', assignee_user_id: member.id }), 'assignee_user_id', /project/);
    const orgLevel = await server.request('POST', URLS.organization(org), { token: owner.token, payload: { key: 'A', value: 'x', assignee_user_id: member.id } });
    expectInvalid(orgLevel, 'assignee_user_id');
    const nonMember = await server.request('POST', URLS.project(org), { token: owner.token, payload: { key: 'A', value: 'x', assignee_user_id: stranger.id } });
    expectInvalid(nonMember, 'assignee_user_id', /not a member/);
  });

  it('refuses rollback to version 0, to a future version and to a deletion', async () => {
    const { owner, org } = await tree();
    const created = await create(owner.token, url(org), { key: 'R', value: 'one' });
    const rollback = (version: number) => server.request('POST', `${url(org)}/${created.id}/rollback`, { token: owner.token, payload: { version } });
    expectInvalid(await rollback(0), 'body.version');
    expectInvalid(await rollback(2), 'version', /earlier version/);
    expectInvalid(await rollback(1), 'version', /earlier version/); // the current version is not an earlier one
    await server.expect(204, 'DELETE', `${url(org)}/${created.id}`, { token: owner.token });
    await server.expect(200, 'POST', `${url(org)}/${created.id}/rollback`, { token: owner.token, payload: { version: 1 } });
    // versions: 1 CREATE, 2 DELETE, 3 ROLLBACK
    expectInvalid(await rollback(2), 'version', /deletion/);
    expectInvalid(await rollback(99), 'version', /earlier version/);
  });

  it('refuses a PATCH with an empty body, and turning a plain variable into a pg_service entry', async () => {
    const { owner, org } = await tree();
    const created = await create(owner.token, url(org), { key: 'P', value: 'x' });
    const empty = await server.request('PATCH', `${url(org)}/${created.id}`, { token: owner.token, payload: {} });
    expect(empty.status).toBe(400);
    const toPg = await server.request('PATCH', `${url(org)}/${created.id}`, { token: owner.token, payload: { type: 'pg_service', pg_service: { service: 'main' } } });
    expectInvalid(toPg, 'type');
  });

  it('records no audit event and stores no row for a request that fails validation', async () => {
    const { owner, org } = await tree();
    const id = await orgId(org, owner.token);
    const before = await auditEvents(org, owner.token, 'target_type=variable');
    const all = (await server.expect(200, 'GET', `/orgs/${org}/audit-events?limit=500`, { token: owner.token })).body.items.length;
    for (const payload of [
      { key: 'bad', value: 'x' },
      { key: 'OK', value: 'a'.repeat(65537) },
      { key: 'OK', type: 'file', value: 'x' },
      { key: 'OK', value: 'x', unknown: 1 },
      { type: 'pg_service', value: '[main]\nnot a line\n' },
    ]) {
      expect((await post(owner.token, org, payload)).status).toBe(400);
    }
    expect(await auditEvents(org, owner.token, 'target_type=variable')).toEqual(before);
    expect((await server.expect(200, 'GET', `/orgs/${org}/audit-events?limit=500`, { token: owner.token })).body.items.length).toBe(all);
    expect(await variableRows(id)).toEqual([]);
  });
});

describe('variables: conflicts (409)', () => {
  it('refuses a duplicate key at the same place, naming the key field', async () => {
    const { owner, org } = await tree();
    await create(owner.token, URLS.environment(org), { key: 'PORT', value: '80' });
    const dup = await server.request('POST', URLS.environment(org), { token: owner.token, payload: { key: 'PORT', type: 'secret', value: '8080' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ code: 'CONFLICT', details: { field: 'body.key' } });
    expect(dup.body.error.message).toContain('PORT');
  });

  it('accepts the same key at other places and for a member at project scope', async () => {
    const { owner, org } = await tree();
    const member = await server.member(owner.token, org, 'DEVELOPER');
    for (const scope of SCOPES) await create(owner.token, URLS[scope](org), { key: 'PORT', value: scope });
    await server.expect(201, 'POST', `/orgs/${org}/projects/shop/environments`, { token: owner.token, payload: { slug: 'staging', type: 'STAGING' } });
    await create(owner.token, `${envBase(org, 'staging')}/variables`, { key: 'PORT', value: 'staging' });
    await create(owner.token, URLS.project(org), { key: 'PORT', value: 'mine', assignee_user_id: member.id });
    const twice = await server.request('POST', URLS.project(org), { token: owner.token, payload: { key: 'PORT', value: 'again', assignee_user_id: member.id } });
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toContain('for this member');
  });

  it('accepts a key again once the first one is deleted', async () => {
    const { owner, org } = await tree();
    const first = await create(owner.token, URLS.service(org), { key: 'PORT', value: '80' });
    await server.expect(204, 'DELETE', `${URLS.service(org)}/${first.id}`, { token: owner.token });
    await create(owner.token, URLS.service(org), { key: 'PORT', value: '81' });
  });

  it('refuses a duplicate pg_service service name at the same place, whichever form it comes in', async () => {
    const { owner, org } = await tree();
    await create(owner.token, URLS.environment(org), { type: 'pg_service', pg_service: { service: 'main', host: 'a' } });
    const dup = await server.request('POST', URLS.environment(org), { token: owner.token, payload: { type: 'pg_service', value: '[main]\nhost=b\n' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ code: 'CONFLICT', details: { field: 'body.pg_service.service' } });
    // A variable may share the name of a pg_service entry: they are apart.
    await create(owner.token, URLS.environment(org), { key: 'MAIN', value: 'x' });
    await create(owner.token, URLS.project(org), { type: 'pg_service', pg_service: { service: 'main', host: 'c' } });
  });

  it('refuses to PATCH an immutable variable or roll it back, but deletes it with 204', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    const frozen = await create(owner.token, url, { key: 'REGION', type: 'secret', value: 'eu-west-1-region', immutable: true });
    const patch = await server.request('PATCH', `${url}/${frozen.id}`, { token: owner.token, payload: { value: 'us-east-1' } });
    expect(patch.status).toBe(409);
    expect(patch.body.error).toMatchObject({ code: 'CONFLICT', details: { field: 'body.immutable' } });
    expect(patch.body.error.message).toMatch(/immutable/);
    expect((await server.expect(200, 'GET', `${url}/${frozen.id}`, { token: owner.token })).body.version).toBe(1);

    await server.expect(204, 'DELETE', `${url}/${frozen.id}`, { token: owner.token });
    // Restoring the deleted one is allowed: it comes back as it was, still immutable.
    const restored = await server.expect(200, 'POST', `${url}/${frozen.id}/rollback`, { token: owner.token, payload: { version: 1 } });
    expect(restored.body).toMatchObject({ immutable: true, version: 3 });
    const rollback = await server.request('POST', `${url}/${frozen.id}/rollback`, { token: owner.token, payload: { version: 1 } });
    expect(rollback.status).toBe(409);
    expect(rollback.body.error.details.field).toBe('body.immutable');
    await server.expect(204, 'DELETE', `${url}/${frozen.id}`, { token: owner.token });
  });
});

describe('variables: versions and rollback', () => {
  it('records CREATE, UPDATE, UPDATE, DELETE as versions 1..4, newest first, with actor and time', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    const created = await create(owner.token, url, { key: 'MODE', value: 'a' });
    await server.expect(200, 'PATCH', `${url}/${created.id}`, { token: owner.token, payload: { value: 'b' } });
    await server.expect(200, 'PATCH', `${url}/${created.id}`, { token: owner.token, payload: { value: 'c' } });
    await server.expect(204, 'DELETE', `${url}/${created.id}`, { token: owner.token });
    await server.expect(404, 'GET', `${url}/${created.id}`, { token: owner.token });

    const versions = await server.expect(200, 'GET', `${url}/${created.id}/versions`, { token: owner.token });
    expect(versions.body.next_cursor).toBeNull();
    const actor = { type: 'user', id: owner.id, name: owner.email };
    expect(versions.body.items).toEqual([
      { version: 4, operation: 'DELETE', type: 'plain', value: null, mount_path: null, rolled_back_from: null, actor, created_at: expect.stringMatching(ISO) },
      { version: 3, operation: 'UPDATE', type: 'plain', value: 'c', mount_path: null, rolled_back_from: null, actor, created_at: expect.stringMatching(ISO) },
      { version: 2, operation: 'UPDATE', type: 'plain', value: 'b', mount_path: null, rolled_back_from: null, actor, created_at: expect.stringMatching(ISO) },
      { version: 1, operation: 'CREATE', type: 'plain', value: 'a', mount_path: null, rolled_back_from: null, actor, created_at: expect.stringMatching(ISO) },
    ]);
  });

  it('names each actor: a member by email, an API token by its name', async () => {
    const { owner, org } = await tree();
    const devops = await server.member(owner.token, org, 'DEVOPS');
    const bot = await server.mint(owner.token, org, { scopes: ['organization:read', 'project:read', 'environment:read', 'secret:read', 'secret:write'] });
    const url = URLS.environment(org);
    const created = await create(owner.token, url, { key: 'WHO', value: 'owner' });
    await server.expect(200, 'PATCH', `${url}/${created.id}`, { token: devops.token, payload: { value: 'devops' } });
    await server.expect(200, 'PATCH', `${url}/${created.id}`, { token: bot.token, payload: { value: 'bot' } });
    const versions = (await server.expect(200, 'GET', `${url}/${created.id}/versions`, { token: owner.token })).body.items;
    expect(versions.map((v: { actor: unknown }) => v.actor)).toEqual([
      { type: 'token', id: bot.id, name: bot.name },
      { type: 'user', id: devops.id, name: devops.email },
      { type: 'user', id: owner.id, name: owner.email },
    ]);
  });

  it('rolls a live variable back to version 1 as a new ROLLBACK version', async () => {
    const { owner, org } = await tree();
    const url = URLS.project(org);
    const created = await create(owner.token, url, { key: 'FEATURE', value: 'off' });
    await server.expect(200, 'PATCH', `${url}/${created.id}`, { token: owner.token, payload: { value: 'on' } });
    const rolled = await server.expect(200, 'POST', `${url}/${created.id}/rollback`, { token: owner.token, payload: { version: 1 } });
    expect(rolled.body).toMatchObject({ id: created.id, key: 'FEATURE', value: 'off', version: 3 });
    expect((await server.expect(200, 'GET', `${url}/${created.id}`, { token: owner.token })).body.value).toBe('off');
    const latest = (await server.expect(200, 'GET', `${url}/${created.id}/versions`, { token: owner.token })).body.items[0];
    expect(latest).toMatchObject({ version: 3, operation: 'ROLLBACK', value: 'off', rolled_back_from: 1, actor: { type: 'user', id: owner.id } });
  });

  it('rolls a secret back to its earlier value, as resolution shows', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    const created = await create(owner.token, url, { key: 'API_KEY', type: 'secret', value: 'first-api-key-value' });
    await server.expect(200, 'PATCH', `${url}/${created.id}`, { token: owner.token, payload: { value: 'second-api-key-value' } });
    expect((await resolved(org, owner.token)).API_KEY).toBe('second-api-key-value');
    await server.expect(200, 'POST', `${url}/${created.id}/rollback`, { token: owner.token, payload: { version: 1 } });
    expect((await resolved(org, owner.token)).API_KEY).toBe('first-api-key-value');
  });

  it('restores a deleted variable by rolling it back; it is listed again', async () => {
    const { owner, org } = await tree();
    const url = URLS.service(org);
    const created = await create(owner.token, url, { key: 'GONE', value: 'back' });
    await server.expect(204, 'DELETE', `${url}/${created.id}`, { token: owner.token });
    expect(await listAll(owner.token, url)).toEqual([]);
    const restored = await server.expect(200, 'POST', `${url}/${created.id}/rollback`, { token: owner.token, payload: { version: 1 } });
    expect(restored.body).toMatchObject({ id: created.id, key: 'GONE', value: 'back', version: 3 });
    expect((await listAll(owner.token, url)).map((v) => v.id)).toEqual([created.id]);
    await server.expect(200, 'GET', `${url}/${created.id}`, { token: owner.token });
  });

  it('refuses to restore a deleted variable whose key a new variable has taken (409)', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    const old = await create(owner.token, url, { key: 'TAKEN', value: 'old' });
    await server.expect(204, 'DELETE', `${url}/${old.id}`, { token: owner.token });
    const replacement = await create(owner.token, url, { key: 'TAKEN', value: 'new' });
    const response = await server.request('POST', `${url}/${old.id}/rollback`, { token: owner.token, payload: { version: 1 } });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('CONFLICT');
    expect((await listAll(owner.token, url)).map((v) => v.id)).toEqual([replacement.id]);
    const versions = (await server.expect(200, 'GET', `${url}/${old.id}/versions`, { token: owner.token })).body.items;
    expect(versions.map((v: { operation: string }) => v.operation)).toEqual(['DELETE', 'CREATE']);
  });

  it('refuses to make a secret plain without a new value (400 on value); with a value it works', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    const created = await create(owner.token, url, { key: 'WAS_SECRET', type: 'secret', value: 'do-not-declassify-me' });
    const refused = await server.request('PATCH', `${url}/${created.id}`, { token: owner.token, payload: { type: 'plain' } });
    expectInvalid(refused, 'value');
    expect(JSON.stringify(refused.body)).not.toContain('declassify');
    const changed = await server.expect(200, 'PATCH', `${url}/${created.id}`, { token: owner.token, payload: { type: 'plain', value: 'public now' } });
    expect(changed.body).toMatchObject({ type: 'plain', value: 'public now', version: 2 });
  });

  it('pages versions with limit and next_cursor', async () => {
    const { owner, org } = await tree();
    const url = URLS.organization(org);
    const created = await create(owner.token, url, { key: 'PAGED', value: '1' });
    for (const value of ['2', '3', '4']) await server.expect(200, 'PATCH', `${url}/${created.id}`, { token: owner.token, payload: { value } });
    const first = await server.expect(200, 'GET', `${url}/${created.id}/versions?limit=2`, { token: owner.token });
    expect(first.body.items.map((v: { version: number }) => v.version)).toEqual([4, 3]);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await server.expect(200, 'GET', `${url}/${created.id}/versions?limit=2&cursor=${encodeURIComponent(first.body.next_cursor)}`, { token: owner.token });
    expect(second.body.items.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(second.body.next_cursor).toBeNull();
    expect((await server.request('GET', `${url}/${created.id}/versions?cursor=garbage`, { token: owner.token })).status).toBe(400);
  });
});

describe('variables: listing and addressing', () => {
  it('lists by key in byte order, page by page', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    const keys = ['ZETA', 'ALPHA', '_UNDER', 'B2', 'B_1', 'A'];
    for (const key of keys) await create(owner.token, url, { key, value: key.toLowerCase() });
    const sorted = [...keys].sort();
    expect((await listAll(owner.token, url)).map((v) => v.key)).toEqual(sorted);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? '?limit=4' : `?limit=4&cursor=${encodeURIComponent(cursor)}`;
      const page: Response = await server.expect(200, 'GET', `${url}${query}`, { token: owner.token });
      expect(page.body.items.length).toBeLessThanOrEqual(4);
      seen.push(...page.body.items.map((v: { key: string }) => v.key));
      cursor = page.body.next_cursor;
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBe(2);
    expect(seen).toEqual(sorted);
  });

  it('does not list deleted variables', async () => {
    const { owner, org } = await tree();
    const url = URLS.project(org);
    const keep = await create(owner.token, url, { key: 'KEEP', value: '1' });
    const drop = await create(owner.token, url, { key: 'DROP', value: '2' });
    await server.expect(204, 'DELETE', `${url}/${drop.id}`, { token: owner.token });
    expect((await listAll(owner.token, url)).map((v) => v.id)).toEqual([keep.id]);
  });

  it('lists only the variables of the place the path names', async () => {
    const { owner, org } = await tree();
    const ids: Record<string, string> = {};
    for (const scope of SCOPES) ids[scope] = (await create(owner.token, URLS[scope](org), { key: `ONLY_${scope.toUpperCase()}`, value: scope })).id;
    for (const scope of SCOPES) expect((await listAll(owner.token, URLS[scope](org))).map((v) => v.id)).toEqual([ids[scope]]);
  });

  it('answers 404 for an id of another scope or another place', async () => {
    const { owner, org } = await tree();
    await server.expect(201, 'POST', `/orgs/${org}/projects/shop/environments`, { token: owner.token, payload: { slug: 'staging', type: 'STAGING' } });
    const variable = await create(owner.token, URLS.environment(org), { key: 'HERE', value: 'x' });
    const elsewhere = [URLS.organization(org), URLS.project(org), URLS.service(org), `${envBase(org, 'staging')}/variables`];
    for (const url of elsewhere) {
      await server.expect(404, 'GET', `${url}/${variable.id}`, { token: owner.token });
      await server.expect(404, 'GET', `${url}/${variable.id}/versions`, { token: owner.token });
      await server.expect(404, 'PATCH', `${url}/${variable.id}`, { token: owner.token, payload: { value: 'y' } });
      await server.expect(404, 'DELETE', `${url}/${variable.id}`, { token: owner.token });
      await server.expect(404, 'POST', `${url}/${variable.id}/rollback`, { token: owner.token, payload: { version: 1 } });
    }
    // Another organization's owner cannot reach it through their own tree either.
    const other = await tree();
    await server.expect(404, 'GET', `${URLS.environment(other.org)}/${variable.id}`, { token: other.owner.token });
    expect((await server.expect(200, 'GET', `${URLS.environment(org)}/${variable.id}`, { token: owner.token })).body.value).toBe('x');
  });

  it('answers 404 for a non-uuid id and an unknown uuid', async () => {
    const { owner, org } = await tree();
    for (const id of ['not-a-uuid', '1', randomUUID()]) {
      const response = await server.request('GET', `${URLS.environment(org)}/${id}`, { token: owner.token });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
      await server.expect(404, 'GET', `${URLS.environment(org)}/${id}/versions`, { token: owner.token });
    }
  });
});

describe('variables: permissions', () => {
  it('lets a VIEWER list every scope with secrets masked, and refuses writes naming secret:write', async () => {
    const { owner, org } = await tree();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const value = `viewer-${canaryOf()}-secret`;
    for (const scope of SCOPES) {
      const url = URLS[scope](org);
      const created = await create(owner.token, url, { key: 'HIDDEN', type: 'secret', value });
      const list = await server.expect(200, 'GET', url, { token: viewer.token });
      expect(list.body.items).toHaveLength(1);
      expect(list.body.items[0].value).toBe(`vie${MASK}ret`);
      await server.expect(200, 'GET', `${url}/${created.id}`, { token: viewer.token });
      await server.expect(200, 'GET', `${url}/${created.id}/versions`, { token: viewer.token });
      expect(JSON.stringify(list.body)).not.toContain(value);
      expectForbidden(await server.request('POST', url, { token: viewer.token, payload: { key: 'NEW', value: 'x' } }), 'secret:write');
      expectForbidden(await server.request('PATCH', `${url}/${created.id}`, { token: viewer.token, payload: { value: 'x' } }), 'secret:write');
      expectForbidden(await server.request('DELETE', `${url}/${created.id}`, { token: viewer.token }), 'secret:write');
      expectForbidden(await server.request('POST', `${url}/${created.id}/rollback`, { token: viewer.token, payload: { version: 1 } }), 'secret:write');
    }
    expectForbidden(await server.request('GET', `${envBase(org)}/resolve`, { token: viewer.token }), 'secret:decrypt');
  });

  it('lets a MEMBER write in a DEVELOPMENT environment but not in PRODUCTION', async () => {
    const { owner, org } = await tree();
    const member = await server.member(owner.token, org, 'MEMBER');
    await server.expect(201, 'POST', `/orgs/${org}/projects/shop/environments`, { token: owner.token, payload: { slug: 'dev', type: 'DEVELOPMENT' } });
    const devUrl = `${envBase(org, 'dev')}/variables`;
    const created = await create(member.token, devUrl, { key: 'DEV_ONLY', type: 'secret', value: 'dev-secret-value' });
    await server.expect(200, 'PATCH', `${devUrl}/${created.id}`, { token: member.token, payload: { value: 'another-dev-secret' } });
    await server.expect(204, 'DELETE', `${devUrl}/${created.id}`, { token: member.token });
    expectForbidden(await server.request('POST', URLS.environment(org), { token: member.token, payload: { key: 'PROD', value: 'x' } }), 'secret:write');
    expectForbidden(await server.request('POST', URLS.service(org), { token: member.token, payload: { key: 'PROD', value: 'x' } }), 'secret:write');
    expect((await server.request('GET', URLS.environment(org), { token: member.token })).status).toBe(200);
  });

  it('refuses a MEMBER project-scope writes, naming the environment types it lacks, and organization-scope writes', async () => {
    const { owner, org } = await tree();
    const member = await server.member(owner.token, org, 'MEMBER');
    const project = await server.request('POST', URLS.project(org), { token: member.token, payload: { key: 'P', value: 'x' } });
    expectForbidden(project, 'secret:write');
    expect([...project.body.error.details.environment_types].sort()).toEqual(['PRODUCTION', 'STAGING']);
    expect(project.body.error.message).toContain('STAGING');
    expect(project.body.error.message).toContain('PRODUCTION');

    const existing = await create(owner.token, URLS.project(org), { key: 'P', value: 'x' });
    expectForbidden(await server.request('PATCH', `${URLS.project(org)}/${existing.id}`, { token: member.token, payload: { value: 'y' } }), 'secret:write');
    expectForbidden(await server.request('DELETE', `${URLS.project(org)}/${existing.id}`, { token: member.token }), 'secret:write');
    expectForbidden(await server.request('POST', URLS.organization(org), { token: member.token, payload: { key: 'O', value: 'x' } }), 'secret:write');
    expect(await listAll(owner.token, URLS.organization(org))).toEqual([]);
    expect((await server.expect(200, 'GET', `${URLS.project(org)}/${existing.id}`, { token: owner.token })).body.version).toBe(1);
  });

  it('lets DEVOPS write organization, project and environment variables', async () => {
    const { owner, org } = await tree();
    const devops = await server.member(owner.token, org, 'DEVOPS');
    for (const scope of SCOPES) {
      const url = URLS[scope](org);
      const created = await create(devops.token, url, { key: 'OPS', type: 'secret', value: 'ops-secret-value' });
      await server.expect(200, 'PATCH', `${url}/${created.id}`, { token: devops.token, payload: { value: 'ops-secret-value-2' } });
      await server.expect(204, 'DELETE', `${url}/${created.id}`, { token: devops.token });
    }
  });

  it('refuses a BILLING_MANAGER reading variables (403 at organization scope, 404 below)', async () => {
    const { owner, org } = await tree();
    const billing = await server.member(owner.token, org, 'BILLING_MANAGER');
    for (const scope of SCOPES) await create(owner.token, URLS[scope](org), { key: 'K', value: 'v' });
    const orgLevel = await server.request('GET', URLS.organization(org), { token: billing.token });
    expectForbidden(orgLevel, 'secret:read');
    for (const scope of ['project', 'environment', 'service'] as const) {
      expect((await server.request('GET', URLS[scope](org), { token: billing.token })).status).toBe(404);
    }
  });

  it('answers 404 to a user who is not a member, at every scope', async () => {
    const { owner, org } = await tree();
    const stranger = await server.user('stranger');
    for (const scope of SCOPES) {
      const created = await create(owner.token, URLS[scope](org), { key: 'K', value: 'v' });
      expect((await server.request('GET', URLS[scope](org), { token: stranger.token })).status).toBe(404);
      expect((await server.request('GET', `${URLS[scope](org)}/${created.id}`, { token: stranger.token })).status).toBe(404);
      expect((await server.request('POST', URLS[scope](org), { token: stranger.token, payload: { key: 'X', value: 'y' } })).status).toBe(404);
    }
  });

  it('lets a read-only token list (masked) but not write nor resolve', async () => {
    const { owner, org } = await tree();
    const value = `ro-${canaryOf()}-secret`;
    for (const scope of SCOPES) await create(owner.token, URLS[scope](org), { key: 'S', type: 'secret', value });
    const { token } = await server.mint(owner.token, org, { preset: 'read-only' });
    for (const scope of SCOPES) {
      const list = await server.expect(200, 'GET', URLS[scope](org), { token });
      expect(list.body.items[0].value).toBe(`ro-${MASK}ret`);
      expect(JSON.stringify(list.body)).not.toContain(value);
      const write = await server.request('POST', URLS[scope](org), { token, payload: { key: 'W', value: 'x' } });
      expectForbidden(write, 'secret:write');
      expect(write.body.error.details.scope).toBe('secret:write');
    }
    const resolve = await server.request('GET', `${envBase(org)}/resolve`, { token });
    expectForbidden(resolve, 'secret:decrypt');
    expect(resolve.body.error.details.scope).toBe('secret:decrypt');
  });

  it('keeps a token restricted to shop/production from writing project-scope variables', async () => {
    const { owner, org } = await tree();
    const { token } = await server.mint(owner.token, org, {
      scopes: ['organization:read', 'project:read', 'environment:read', 'service:read', 'secret:read', 'secret:write'],
      path: 'shop/production',
    });
    await create(token, URLS.environment(org), { key: 'IN_PATH', value: 'ok' });
    await create(token, URLS.service(org), { key: 'IN_PATH', value: 'ok' });
    expectForbidden(await server.request('POST', URLS.project(org), { token, payload: { key: 'OUT_OF_PATH', value: 'no' } }), 'secret:write');
    expectForbidden(await server.request('POST', URLS.organization(org), { token, payload: { key: 'OUT_OF_PATH', value: 'no' } }), 'secret:write');
    expect(await listAll(owner.token, URLS.project(org))).toEqual([]);
    expect(await listAll(owner.token, URLS.organization(org))).toEqual([]);
  });
});

describe('variables: audit events', () => {
  it.each(SCOPES)('records one event per create, update, delete and rollback at %s scope', async (scope) => {
    const { owner, org } = await tree();
    const url = URLS[scope](org);
    const place = PLACE[scope](org);
    const created = await create(owner.token, url, { key: 'DB_PASSWORD', type: 'secret', value: 'the-first-password' });
    await server.expect(200, 'PATCH', `${url}/${created.id}`, { token: owner.token, payload: { value: 'the-second-password' } });
    await server.expect(204, 'DELETE', `${url}/${created.id}`, { token: owner.token });
    await server.expect(200, 'POST', `${url}/${created.id}/rollback`, { token: owner.token, payload: { version: 2 } });

    const events = (await auditEvents(org, owner.token)).reverse();
    expect(events.map((e) => e.event_type)).toEqual(['CREATE', 'UPDATE', 'DELETE', 'UPDATE']);
    for (const event of events) {
      expect(event).toMatchObject({ target_type: 'variable', target_id: created.id, actor: { type: 'user', id: owner.id, name: owner.email } });
      expect(event.change).toContain('DB_PASSWORD');
      expect(event.change).toContain(place);
    }
    expect(events[0]!.change).toBe(`Created secret DB_PASSWORD in ${place}`);
    expect(events[1]!.change).toBe(`Updated secret DB_PASSWORD in ${place}`);
    expect(events[2]!.change).toBe(`Deleted secret DB_PASSWORD in ${place}`);
    expect(events[3]!.change).toMatch(/^Restored secret DB_PASSWORD in .* to version 2$/);
    const text = JSON.stringify(events);
    expect(text).not.toContain('the-first-password');
    expect(text).not.toContain('the-second-password');
    expect(events[0]!.details.after.value_hmac).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(events[1]!.details.before.value_hmac).toBe(events[0]!.details.after.value_hmac);
    expect(events[1]!.details.after.value_hmac).not.toBe(events[0]!.details.after.value_hmac);
    expect(events[2]!.details.before.value_hmac).toBe(events[1]!.details.after.value_hmac);
    expect(events[3]!.details.after.value_hmac).toBe(events[1]!.details.after.value_hmac);
  });

  it('names the place in the change line: "Created secret DB_PASSWORD in shop/production"', async () => {
    const { owner, org } = await tree();
    await create(owner.token, URLS.environment(org), { key: 'DB_PASSWORD', type: 'secret', value: 'hunter2-hunter2' });
    const [event] = await auditEvents(org, owner.token);
    expect(event!.change).toBe('Created secret DB_PASSWORD in shop/production');
    expect(event!.event_type).toBe('CREATE');
  });

  it('records a rollback of a live variable as UPDATE "Rolled back … to version N"', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    const created = await create(owner.token, url, { key: 'MODE', value: 'a' });
    await server.expect(200, 'PATCH', `${url}/${created.id}`, { token: owner.token, payload: { value: 'b' } });
    await server.expect(200, 'POST', `${url}/${created.id}/rollback`, { token: owner.token, payload: { version: 1 } });
    const [latest] = await auditEvents(org, owner.token);
    expect(latest).toMatchObject({ event_type: 'UPDATE', target_type: 'variable', change: 'Rolled back variable MODE in shop/production to version 1' });
    expect(latest!.details).toMatchObject({ before: { value: 'b' }, after: { value: 'a' }, rolled_back_from: 1 });
  });

  it('carries plain values in clear and secret values only as an HMAC', async () => {
    const { owner, org } = await tree();
    await create(owner.token, URLS.environment(org), { key: 'PLAIN', value: 'plain-in-clear' });
    await create(owner.token, URLS.environment(org), { key: 'SECRET', type: 'secret', value: 'secret-never-in-clear' });
    await create(owner.token, URLS.environment(org), { key: 'FILE', type: 'file', value: 'file-never-in-clear', mount_path: '/f' });
    const events = await auditEvents(org, owner.token);
    const byKey = Object.fromEntries(events.map((e) => [e.details.after.key, e.details.after]));
    expect(byKey.PLAIN).toMatchObject({ key: 'PLAIN', type: 'plain', value: 'plain-in-clear' });
    expect(byKey.PLAIN).not.toHaveProperty('value_hmac');
    for (const key of ['SECRET', 'FILE']) {
      expect(byKey[key]).not.toHaveProperty('value');
      expect(byKey[key].value_hmac).toMatch(/^hmac-sha256:/);
    }
    expect(JSON.stringify(events)).not.toMatch(/never-in-clear/);
  });

  it('gives the same HMAC for the same value in one organization and a different one in another', async () => {
    const a = await tree();
    const b = await tree();
    const value = 'shared-secret-value';
    await create(a.owner.token, URLS.environment(a.org), { key: 'ONE', type: 'secret', value });
    await create(a.owner.token, URLS.project(a.org), { key: 'TWO', type: 'secret', value });
    await create(b.owner.token, URLS.environment(b.org), { key: 'ONE', type: 'secret', value });
    const [twoA, oneA] = await auditEvents(a.org, a.owner.token);
    const [oneB] = await auditEvents(b.org, b.owner.token);
    expect(oneA!.details.after.value_hmac).toBe(twoA!.details.after.value_hmac);
    expect(oneB!.details.after.value_hmac).toMatch(/^hmac-sha256:/);
    expect(oneB!.details.after.value_hmac).not.toBe(oneA!.details.after.value_hmac);
  });

  it('records no event for a refused (403) or conflicting (409) write', async () => {
    const { owner, org } = await tree();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const existing = await create(owner.token, URLS.environment(org), { key: 'DUP', value: 'x' });
    const frozen = await create(owner.token, URLS.environment(org), { key: 'FROZEN', value: 'x', immutable: true });
    const before = await auditEvents(org, owner.token);
    expect((await server.request('POST', URLS.environment(org), { token: owner.token, payload: { key: 'DUP', value: 'y' } })).status).toBe(409);
    expect((await server.request('PATCH', `${URLS.environment(org)}/${frozen.id}`, { token: owner.token, payload: { value: 'y' } })).status).toBe(409);
    expect((await server.request('PATCH', `${URLS.environment(org)}/${existing.id}`, { token: viewer.token, payload: { value: 'y' } })).status).toBe(403);
    // The refusal itself is recorded as ACCESS_DENIED against the environment, not as a variable change.
    expect(await auditEvents(org, owner.token)).toEqual(before);
  });
});

describe('variables: a canary secret never leaves through management responses or the audit log', () => {
  it('keeps secret, file and pg_service canaries out of every response, version listing and audit export', async () => {
    const { owner, org } = await tree();
    const canary = canaryOf();
    const bodies: string[] = [];
    const keep = (response: Response) => {
      bodies.push(typeof response.body === 'string' ? response.body : JSON.stringify(response.body));
      return response;
    };
    const ids: { url: string; id: string }[] = [];
    for (const scope of SCOPES) {
      const url = URLS[scope](org);
      const payloads = [
        { key: 'SECRET_CANARY', type: 'secret', value: `xx-${canary}-yy` },
        { key: 'FILE_CANARY', type: 'file', value: `-----BEGIN-----\n${canary}\n-----END-----\n`, mount_path: '/run/canary' },
        {
          type: 'pg_service',
          pg_service: { service: 'structured', host: 'db', user: 'app', password: `pw-${canary}-pw`, extra: { sslpassword: `sp-${canary}-sp` } },
        },
        { type: 'pg_service', value: `[raw]\nhost=db\npassword=rw-${canary}-rw\nsslpassword=ex-${canary}-ex\n` },
      ];
      for (const payload of payloads) {
        const created = keep(await server.expect(201, 'POST', url, { token: owner.token, payload }));
        ids.push({ url, id: created.body.id });
      }
      keep(await server.expect(200, 'GET', url, { token: owner.token }));
    }
    for (const { url, id } of ids) {
      const current = keep(await server.expect(200, 'GET', `${url}/${id}`, { token: owner.token })).body;
      const patch =
        current.type === 'pg_service'
          ? { pg_service: { service: current.pg_service.service, password: `new-${canary}-new`, extra: { sslpassword: `nx-${canary}-nx` } } }
          : { value: `new-${canary}-new` };
      keep(await server.expect(200, 'PATCH', `${url}/${id}`, { token: owner.token, payload: patch }));
      keep(await server.expect(200, 'POST', `${url}/${id}/rollback`, { token: owner.token, payload: { version: 1 } }));
      keep(await server.expect(200, 'GET', `${url}/${id}/versions`, { token: owner.token }));
      keep(await server.expect(204, 'DELETE', `${url}/${id}`, { token: owner.token }));
      keep(await server.expect(200, 'GET', `${url}/${id}/versions`, { token: owner.token }));
    }
    keep(await server.expect(200, 'GET', `/orgs/${org}/audit-events?limit=500`, { token: owner.token }));
    const exported = keep(await server.expect(200, 'GET', `/orgs/${org}/audit-events/export?format=jsonl`, { token: owner.token }));
    const csv = keep(await server.expect(200, 'GET', `/orgs/${org}/audit-events/export?format=csv`, { token: owner.token }));

    // The export really holds the variable events, so its silence about the canary means something.
    const lines = String(exported.raw.body).trim().split('\n').map((line) => JSON.parse(line) as { target_type: string });
    expect(lines.filter((event) => event.target_type === 'variable')).toHaveLength(ids.length * 4);
    expect(String(csv.raw.body)).toContain('variable');
    for (const body of bodies) expect(body).not.toContain(canary);
    // Restoring a deleted canary secret answers masked too.
    const restored = await server.expect(200, 'POST', `${ids[0]!.url}/${ids[0]!.id}/rollback`, { token: owner.token, payload: { version: 1 } });
    expect(JSON.stringify(restored.body)).not.toContain(canary);
  });

  it('resolves the canary values in clear for secret:decrypt, proving they were stored', async () => {
    const { owner, org } = await tree();
    const canary = canaryOf();
    await create(owner.token, URLS.environment(org), { key: 'SECRET_CANARY', type: 'secret', value: `xx-${canary}-yy` });
    await create(owner.token, URLS.environment(org), { type: 'pg_service', pg_service: { service: 'main', password: `pw-${canary}-pw` } });
    const resolution = await server.expect(200, 'GET', `${envBase(org)}/resolve`, { token: owner.token });
    expect(JSON.stringify(resolution.body)).toContain(`xx-${canary}-yy`);
    expect(JSON.stringify(resolution.body)).toContain(`pw-${canary}-pw`);
  });
});

/** Product bugs found while writing this file, each now fixed: the tests keep them fixed. */
describe('variables: fixed product bugs (were it.fails)', () => {
  // Was: service.ts update() builds a pg_service entry's content without input.mount_path, so a
  // PATCH {mount_path} on a pg_service entry answers 200 (and writes a no-op version) where
  // POST with the same field answers 400 "mount_path: is only for variables of type file".
  it('refuses mount_path in a PATCH of a pg_service entry with 400, as creation does', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    const pg = await create(owner.token, url, { type: 'pg_service', pg_service: { service: 'main', host: 'db' } });
    const response = await server.request('PATCH', `${url}/${pg.id}`, { token: owner.token, payload: { mount_path: '/etc/pg' } });
    expectInvalid(response, 'mount_path');
  });

  // Was: requireWriteEverywhereInProject (service.ts) throws FORBIDDEN itself, bypassing the
  // guard's onDenied hook, so this refusal records no ACCESS_DENIED event (SPEC §6: denied
  // requests inside an organization are recorded), unlike refusals decided by the route guard.
  it("records ACCESS_DENIED when a MEMBER's project-scope write is refused", async () => {
    const { owner, org } = await tree();
    const member = await server.member(owner.token, org, 'MEMBER');
    expectForbidden(await server.request('POST', URLS.project(org), { token: member.token, payload: { key: 'P', value: 'x' } }), 'secret:write');
    const denied = await auditEvents(org, owner.token, 'event_type=ACCESS_DENIED');
    expect(denied.filter((event) => event.actor.id === member.id)).toHaveLength(1);
  });

  // Was: Ajv runs with coerceTypes ('array', src/app.ts) for bodies too, so {"value": null}
  // becomes "" and silently empties a secret (200, new version) instead of a 400 naming value.
  it('refuses a null value with 400 instead of emptying the secret', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    const secret = await create(owner.token, url, { key: 'S', type: 'secret', value: 'keep-this-secret' });
    const response = await server.request('PATCH', `${url}/${secret.id}`, { token: owner.token, payload: { value: null } });
    expect(response.status).toBe(400);
    expect(String(response.body.error.details.field)).toMatch(/value$/);
  });
});

describe('variables: member-assigned ones are private to the member and the project variables managers', () => {
  it('lists and shows an assigned variable to its member and to managers, to no other reader', async () => {
    const { owner, org } = await tree();
    const url = `/orgs/${org}/projects/shop/variables`;
    const alice = await server.member(owner.token, org, 'VIEWER');
    const bob = await server.member(owner.token, org, 'VIEWER');
    const devops = await server.member(owner.token, org, 'DEVOPS');
    await server.expect(201, 'POST', url, { token: owner.token, payload: { key: 'SHARED', value: 'everyone' } });
    const mine = await server.expect(201, 'POST', url, { token: owner.token, payload: { key: 'PERSONAL', value: 'alice-only', assignee_user_id: alice.id } });
    const keys = async (token: string) => (await server.expect(200, 'GET', url, { token })).body.items.map((v: { key: string }) => v.key).sort();

    expect(await keys(alice.token)).toEqual(['PERSONAL', 'SHARED']);
    expect(await keys(owner.token)).toEqual(['PERSONAL', 'SHARED']);
    expect(await keys(devops.token)).toEqual(['PERSONAL', 'SHARED']);
    expect(await keys(bob.token)).toEqual(['SHARED']);
    await server.expect(200, 'GET', `${url}/${mine.body.id}`, { token: alice.token });
    await server.expect(404, 'GET', `${url}/${mine.body.id}`, { token: bob.token });
    await server.expect(404, 'GET', `${url}/${mine.body.id}/versions`, { token: bob.token });
  });

  it('answers a cursor it did not issue with 400, never 500', async () => {
    const { owner, org } = await tree();
    for (const forged of [['A\nnot-a-uuid'], ['A\u0000\n00000000-0000-4000-8000-000000000000'], ['no-separator']]) {
      const cursor = Buffer.from(JSON.stringify(forged)).toString('base64url');
      const response = await server.request('GET', `/orgs/${org}/variables?cursor=${cursor}`, { token: owner.token });
      expect(response.status, JSON.stringify(forged)).toBe(400);
      expect(response.body.error.details.field).toBe('query.cursor');
    }
  });

  it('refuses a mount_path with empty or . segments: it must name one file', async () => {
    const { owner, org } = await tree();
    for (const mount_path of ['/etc/app/.', '/etc//app.pem', '/./app.pem']) {
      const response = await server.request('POST', `/orgs/${org}/variables`, { token: owner.token, payload: { key: 'F', type: 'file', value: 'x', mount_path } });
      expect(response.status, mount_path).toBe(400);
      expect(response.body.error.details.field).toBe('body.mount_path');
    }
  });
});
