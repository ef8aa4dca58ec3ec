import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Response } from '../../../test/harness.js';
import { server, ISO, envBase, URLS, SCOPES, tree, create, listAll, resolved, expectInvalid } from '../../../test/fixtures/variables.js';

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
