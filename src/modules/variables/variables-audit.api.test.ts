import { describe, expect, it } from 'vitest';
import { type Response } from '../../../test/harness.js';
import { server, envBase, URLS, SCOPES, PLACE, tree, create, auditEvents, expectInvalid, expectForbidden, canaryOf } from '../../../test/fixtures/variables.js';

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
