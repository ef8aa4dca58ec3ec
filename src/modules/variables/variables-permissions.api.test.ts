import { describe, expect, it } from 'vitest';
import { server, MASK, envBase, URLS, SCOPES, tree, create, listAll, expectForbidden, canaryOf } from '../../../test/fixtures/variables.js';

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
