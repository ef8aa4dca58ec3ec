import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { server, envBase, URLS, SCOPES, tree, create, auditEvents, orgId, variableRows, expectInvalid, canaryOf } from '../../../test/fixtures/variables.js';

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
