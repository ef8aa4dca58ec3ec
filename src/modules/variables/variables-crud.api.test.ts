import { describe, expect, it } from 'vitest';
import { server, UUID, ISO, MASK, URLS, SCOPES, tree, create, listAll, resolved, canaryOf } from '../../../test/fixtures/variables.js';

/** What every new variable's view holds besides its key, type and value. */
const FIRST_VERSION = {
  mount_path: null,
  immutable: false,
  version: 1,
  assignee_user_id: null,
  created_at: expect.stringMatching(ISO),
  updated_at: expect.stringMatching(ISO),
};

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
      ...FIRST_VERSION,
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
      ...FIRST_VERSION,
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
