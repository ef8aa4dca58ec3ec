import { describe, expect, it } from 'vitest';
import { server, shop, svc } from '../../../test/fixtures/tokens.js';

describe('owner-only and person-only actions are never a token\'s (issue #18)', () => {
  it('a * token of the OWNER cannot delete the organization nor transfer ownership', async () => {
    const { owner, org } = await shop();
    const { token } = await server.mint(owner.token, org, { scopes: ['*'] });
    const deleted = await server.request('DELETE', `/orgs/${org}`, { token });
    expect(deleted.status).toBe(403);
    expect(deleted.body.error.details).toMatchObject({ action: 'organization:delete', reason: 'person-only' });
    expect(deleted.body.error.message).toContain('organization:delete');
    await server.expect(200, 'GET', `/orgs/${org}`, { token: owner.token });
    const transferred = await server.request('POST', `/orgs/${org}/transfer-ownership`, { token, payload: { user_id: owner.id } });
    expect(transferred.status).toBe(403);
  });

  it.each([
    ['organization:delete', ['organization:delete']],
    ['billing:manage', ['billing:manage']],
    ['billing:manage beside secret:read', ['secret:read', 'billing:manage']],
  ])(
    'refuses to mint a token naming %s with 400 naming the scope',
    async (_label, scopes) => {
      const { owner, org } = await shop();
      const refused = await server.request('POST', `/orgs/${org}/tokens`, { token: owner.token, payload: { name: 'x', scopes } });
      expect(refused.status).toBe(400);
      expect(refused.body.error.details).toMatchObject({ field: 'body.scopes', scopes: scopes.filter((scope) => scope !== 'secret:read') });
      expect(refused.body.error.message).toContain(scopes.at(-1));
    },
  );

  it('* and organization:* leave the person-only actions out, and authz/check agrees', async () => {
    const { owner, org } = await shop();
    const star = await server.mint(owner.token, org, { scopes: ['*'] });
    const orgWide = await server.mint(owner.token, org, { scopes: ['organization:*', 'billing:*'] });
    for (const { id, token } of [star, orgWide]) {
      for (const action of ['organization:delete', 'billing:manage']) {
        const self = await server.expect(200, 'POST', `/orgs/${org}/authz/check`, { token, payload: { action } });
        expect(self.body).toMatchObject({ allowed: false, reason: expect.stringContaining('signed-in person only') });
        const asked = await server.expect(200, 'POST', `/orgs/${org}/authz/check`, { token: owner.token, payload: { principal: { token_id: id }, action } });
        expect(asked.body.allowed).toBe(false);
      }
      const write = await server.expect(200, 'POST', `/orgs/${org}/authz/check`, { token, payload: { action: 'organization:write' } });
      expect(write.body.allowed).toBe(true);
    }
    const owner_ = await server.expect(200, 'POST', `/orgs/${org}/authz/check`, { token: owner.token, payload: { action: 'organization:delete' } });
    expect(owner_.body.allowed).toBe(true);
  });

  it('a token stored with organization:delete (before this rule) is still refused it', async () => {
    const { owner, org } = await shop();
    const { id, token } = await server.mint(owner.token, org, { scopes: ['organization:read'] });
    await server.db.updateTable('api_tokens').set({ scopes: JSON.stringify(['organization:read', 'organization:delete']) }).where('id', '=', id).execute();
    expect((await server.request('DELETE', `/orgs/${org}`, { token })).status).toBe(403);
    await server.expect(200, 'GET', `/orgs/${org}`, { token: owner.token });
  });
});

describe('a path-limited token sees only what lies on its path (issue #18)', () => {
  it('is refused the member list, the roles, invitations and the audit log with 403 naming its path', async () => {
    const { owner, org } = await shop();
    const roles = await server.expect(200, 'GET', `/orgs/${org}/roles`, { token: owner.token });
    const { token } = await server.mint(owner.token, org, { preset: 'ci', path: 'acme-store/production' });
    await server.expect(200, 'GET', `/orgs/${org}`, { token });
    for (const url of [`/orgs/${org}/members`, `/orgs/${org}/roles`, `/orgs/${org}/roles/${roles.body.items[0].id}`]) {
      const refused = await server.request('GET', url, { token });
      expect(refused.status, url).toBe(403);
      expect(refused.body.error.details).toMatchObject({ action: 'organization:read', reason: 'path' });
      expect(JSON.stringify(refused.body)).not.toContain(owner.email);
    }
    const everything = await server.mint(owner.token, org, { scopes: ['*'], path: 'acme-store/production' });
    for (const url of [`/orgs/${org}/invitations`, `/orgs/${org}/audit-events`, `/orgs/${org}/members`]) {
      const refused = await server.request('GET', url, { token: everything.token });
      expect(refused.status, url).toBe(403);
      expect(refused.body.error.details.reason).toBe('path');
    }
    expect((await server.expect(200, 'GET', `/orgs/${org}/clusters`, { token: everything.token })).body.items).toEqual([]);
    const denied = await server.expect(200, 'GET', `/orgs/${org}/audit-events?event_type=ACCESS_DENIED`, { token: owner.token });
    expect(denied.body.items.some((event: { change: string }) => event.change === `Refused organization:read on organization ${org}`)).toBe(true);
  });

  it('a token without a path still lists members and roles', async () => {
    const { owner, org } = await shop();
    const { token } = await server.mint(owner.token, org, { preset: 'read-only' });
    const members = await server.expect(200, 'GET', `/orgs/${org}/members`, { token });
    expect(members.body.items.map((m: { email: string }) => m.email)).toEqual([owner.email]);
    await server.expect(200, 'GET', `/orgs/${org}/roles`, { token });
  });
});

describe('a missing scope inside a token\'s path is a 403 naming it (issue #18)', () => {
  it('secret:read and secret:decrypt on a service: a write there names secret:write; beside the path stays 404', async () => {
    const { owner, org } = await shop();
    const { token } = await server.mint(owner.token, org, { scopes: ['secret:read', 'secret:decrypt'], path: 'acme-store/production/backend' });
    const write = await server.request('POST', `${svc(org, 'acme-store/production/backend')}/variables`, { token, payload: { key: 'NEW', value: 'x' } });
    expect(write.status).toBe(403);
    expect(write.body.error.details.scope).toBe('secret:write');
    expect(write.body.error.message).toContain('secret:write');
    await server.expect(200, 'GET', `${svc(org, 'acme-store/production/backend')}/variables`, { token });
    const service = await server.request('GET', svc(org, 'acme-store/production/backend'), { token });
    expect(service.status).toBe(403);
    expect(service.body.error.details.scope).toBe('service:read');
    // The places on the way to the path are visible too: refusals there name the scope.
    expect((await server.request('GET', `/orgs/${org}/projects/acme-store`, { token })).body.error.details.scope).toBe('project:read');
    expect((await server.request('GET', `/orgs/${org}/projects/acme-store/environments/production`, { token })).body.error.details.scope).toBe('environment:read');
    for (const beside of ['acme-store/production/frontend', 'acme-store/staging/backend', 'blog/production/backend']) {
      expect((await server.request('POST', `${svc(org, beside)}/variables`, { token, payload: { key: 'NEW', value: 'x' } })).status, beside).toBe(404);
      expect((await server.request('GET', svc(org, beside), { token })).status, beside).toBe(404);
    }
    expect((await server.request('GET', `/orgs/${org}/projects/blog`, { token })).status).toBe(404);
    expect((await server.request('GET', `/orgs/${org}/projects/acme-store/environments/staging`, { token })).status).toBe(404);
  });
});
