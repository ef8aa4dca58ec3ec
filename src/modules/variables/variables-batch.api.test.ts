import { describe, expect, it } from 'vitest';
import { server, URLS, SCOPES, PLACE, tree, create, auditEvents, listAll, expectInvalid, orgId, variableRows, resolved } from '../../../test/fixtures/variables.js';

/** POST …/variables/batch: many creates and updates at one place, all or nothing (issue 14, imports). */

const batch = (token: string, url: string, payload: Record<string, unknown>) => server.request('POST', `${url}/batch`, { token, payload });

const versionsOf = async (token: string, url: string) =>
  Object.fromEntries(((await server.expect(200, 'GET', `${url}?limit=500`, { token })).body.items as { key: string; version: number }[]).map((v) => [v.key, v.version]));

describe('variables: batch writes', () => {
  it.each(SCOPES)('creates, updates and leaves alone at %s scope, one audit event per change', async (scope) => {
    const { owner, org } = await tree();
    const url = URLS[scope](org);
    await create(owner.token, url, { key: 'SAME', value: 'same-value' });
    await create(owner.token, url, { key: 'CHANGED', type: 'secret', value: 'fake-old-secret' });
    const response = await server.expect(200, 'POST', `${url}/batch`, {
      token: owner.token,
      payload: {
        variables: [
          { key: 'NEW_PLAIN', value: 'fake-plain', type: 'plain' },
          { key: 'SAME', value: 'same-value' },
          { key: 'CHANGED', value: 'fake-new-secret', type: 'secret' },
          { key: 'NEW_SECRET', value: 'fake-new-one', type: 'secret' },
        ],
      },
    });
    expect(response.body).toEqual({ dry_run: false, created: ['NEW_PLAIN', 'NEW_SECRET'], updated: ['CHANGED'], unchanged: ['SAME'] });
    expect(JSON.stringify(response.body)).not.toContain('fake-');
    expect(await versionsOf(owner.token, url)).toEqual({ NEW_PLAIN: 1, SAME: 1, CHANGED: 2, NEW_SECRET: 1 });
    const listed = Object.fromEntries((await listAll(owner.token, url)).map((v) => [v.key, v]));
    expect(listed.NEW_SECRET).toMatchObject({ type: 'secret', value: '********' });
    expect(listed.NEW_PLAIN).toMatchObject({ type: 'plain', value: 'fake-plain' });

    const events = (await auditEvents(org, owner.token)).slice(0, 3).reverse();
    expect(events.map((e) => e.change)).toEqual([
      `Created variable NEW_PLAIN in ${PLACE[scope](org)}`,
      `Updated secret CHANGED in ${PLACE[scope](org)}`,
      `Created secret NEW_SECRET in ${PLACE[scope](org)}`,
    ]);
    expect(JSON.stringify(events)).not.toContain('fake-new');
    expect((await auditEvents(org, owner.token)).length).toBe(5);
  });

  it('answers a dry run with the same lists and writes nothing: versions, rows and audit unchanged', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    await create(owner.token, url, { key: 'KEEP', value: 'v' });
    await create(owner.token, url, { key: 'BUMP', value: 'v1' });
    const eventsBefore = (await auditEvents(org, owner.token)).length;
    const response = await server.expect(200, 'POST', `${url}/batch`, {
      token: owner.token,
      payload: { dry_run: true, variables: [{ key: 'KEEP', value: 'v' }, { key: 'BUMP', value: 'v2' }, { key: 'FRESH', value: 'x' }] },
    });
    expect(response.body).toEqual({ dry_run: true, created: ['FRESH'], updated: ['BUMP'], unchanged: ['KEEP'] });
    expect(await versionsOf(owner.token, url)).toEqual({ KEEP: 1, BUMP: 1 });
    expect((await auditEvents(org, owner.token)).length).toBe(eventsBefore);
    expect(await resolved(org, owner.token)).toMatchObject({ BUMP: 'v1' });
  });

  it('writes nothing when item 500 of 1,000 has an invalid key, naming it', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    const variables = Array.from({ length: 1000 }, (_, i) => ({ key: `KEY_${i}`, value: `fake-${i}` }));
    variables[500] = { key: 'not-a-key', value: 'fake' };
    const response = await batch(owner.token, url, { variables });
    expectInvalid(response, 'body.variables[500].key', /A-Z/);
    expect(await variableRows(await orgId(org, owner.token))).toEqual([]);
    expect(await auditEvents(org, owner.token)).toEqual([]);
  });

  it('writes nothing when one item would edit an immutable variable (409 naming its index)', async () => {
    const { owner, org } = await tree();
    const url = URLS.service(org);
    await create(owner.token, url, { key: 'LOCKED', value: 'fixed', immutable: true });
    const response = await batch(owner.token, url, { variables: [{ key: 'A', value: '1' }, { key: 'LOCKED', value: 'changed' }, { key: 'B', value: '2' }] });
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({ code: 'CONFLICT', details: { field: 'body.variables[1].immutable' } });
    expect(response.body.error.message).toContain('LOCKED');
    expect(await versionsOf(owner.token, url)).toEqual({ LOCKED: 1 });
    // Its unchanged value is no edit: the batch goes through.
    const same = await server.expect(200, 'POST', `${url}/batch`, { token: owner.token, payload: { variables: [{ key: 'LOCKED', value: 'fixed' }, { key: 'A', value: '1' }] } });
    expect(same.body).toMatchObject({ created: ['A'], unchanged: ['LOCKED'] });
  });

  it('refuses a key given twice, an empty list and a value over 64 KiB with 400', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    expectInvalid(await batch(owner.token, url, { variables: [{ key: 'A', value: '1' }, { key: 'A', value: '2' }] }), 'body.variables[1].key', /variables\[0\]/);
    expect((await batch(owner.token, url, { variables: [] })).status).toBe(400);
    expectInvalid(await batch(owner.token, url, { variables: [{ key: 'BIG', value: 'x'.repeat(65 * 1024) }] }), 'body.variables[0].value', /65536/);
    expect(await listAll(owner.token, url)).toEqual([]);
  });

  it('keeps 404 for strangers and 403 without secret:write, as single writes do', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    const stranger = await server.user('stranger');
    expect((await batch(stranger.token, url, { variables: [{ key: 'A', value: '1' }] })).status).toBe(404);
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const refused = await batch(viewer.token, url, { variables: [{ key: 'A', value: '1' }] });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('secret:write');
    expect(await listAll(owner.token, url)).toEqual([]);
  });

  it('updates many variables at once, each to its own value and version, touching only the keys given at this place', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    const keys = Array.from({ length: 300 }, (_, i) => `KEY_${i}`);
    const send = (value: (i: number) => string, type?: 'secret') =>
      server.expect(200, 'POST', `${url}/batch`, { token: owner.token, payload: { variables: keys.map((key, i) => ({ key, value: value(i), ...(type ? { type } : {}) })) } });
    await send((i) => `old-${i}`);
    await create(owner.token, url, { key: 'NOT_IN_BATCH', value: 'left' });
    await create(owner.token, URLS.project(org), { key: 'KEY_0', value: 'project-value' });
    const answer = await send((i) => (i % 3 === 0 ? `old-${i}` : `new-${i}`), undefined);
    expect(answer.body.updated).toHaveLength(200);
    expect(answer.body.unchanged).toEqual(keys.filter((_, i) => i % 3 === 0));
    const values = await resolved(org, owner.token);
    for (const [i, key] of keys.entries()) expect(values[key], key).toBe(i % 3 === 0 ? `old-${i}` : `new-${i}`);
    expect(values.NOT_IN_BATCH).toBe('left');
    const versions = await versionsOf(owner.token, url);
    expect(keys.map((key) => versions[key])).toEqual(keys.map((_, i) => (i % 3 === 0 ? 1 : 2)));
    expect(versions.NOT_IN_BATCH).toBe(1);
    expect(await versionsOf(owner.token, URLS.project(org))).toEqual({ KEY_0: 1 });
    const id = (await listAll(owner.token, url)).find((v) => v.key === 'KEY_1')!.id;
    const history = (await server.expect(200, 'GET', `${url}/${id}/versions`, { token: owner.token })).body.items as { version: number; value: string }[];
    expect(history.map((v) => [v.version, v.value])).toEqual([[2, 'new-1'], [1, 'old-1']]);
    const updates = await auditEvents(org, owner.token, 'target_type=variable&event_type=UPDATE');
    expect(updates).toHaveLength(200);
    expect(updates.find((e) => e.change.includes('KEY_1 '))!.details).toMatchObject({ before: { value: 'old-1' }, after: { value: 'new-1' }, version: 2 });
  });

  it('makes new values visible to resolution at once (the cache is dropped)', async () => {
    const { owner, org } = await tree();
    const url = URLS.environment(org);
    await create(owner.token, url, { key: 'MODE', value: 'old' });
    expect(await resolved(org, owner.token)).toMatchObject({ MODE: 'old' });
    await server.expect(200, 'POST', `${url}/batch`, { token: owner.token, payload: { variables: [{ key: 'MODE', value: 'new' }] } });
    expect(await resolved(org, owner.token)).toMatchObject({ MODE: 'new' });
  });
});
