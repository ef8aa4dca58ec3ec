import { describe, expect, it } from 'vitest';
import { generateApiToken } from '../../kernel/crypto/api-token.js';
import { server, shop, svc } from '../../../test/fixtures/tokens.js';

describe('creating and listing tokens', () => {
  it('returns the token once, in cfr_ format, and lists it without the token or its hash', async () => {
    const { owner, org } = await shop();
    const created = await server.expect(201, 'POST', `/orgs/${org}/tokens`, {
      token: owner.token,
      payload: { name: 'deploy-bot', preset: 'ci', path: 'acme-store/production' },
    });
    expect(created.body.token).toMatch(/^cfr_[0-9A-Za-z]{46}$/);
    expect(created.body).toMatchObject({
      name: 'deploy-bot',
      path: 'acme-store/production',
      prefix: created.body.token.slice(0, 10),
      scopes: ['organization:read', 'project:read', 'environment:read', 'service:read', 'secret:read', 'secret:decrypt'],
      created_by: { user_id: owner.id, email: owner.email },
      last_used_at: null,
    });
    const list = await server.expect(200, 'GET', `/orgs/${org}/tokens`, { token: owner.token });
    expect(list.body.items).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(created.body.token.slice(10));
    expect(list.body.items[0]).not.toHaveProperty('token');
    const stored = await server.db.selectFrom('api_tokens').selectAll().execute();
    expect(JSON.stringify(stored)).not.toContain(created.body.token.slice(10));
  });

  it('refuses unknown scopes with 400 naming them', async () => {
    const { owner, org } = await shop();
    const response = await server.request('POST', `/orgs/${org}/tokens`, {
      token: owner.token,
      payload: { name: 'x', scopes: ['secret:read', 'secret:steal', 'nothing:*'] },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details).toMatchObject({ field: 'body.scopes', unknown: ['secret:steal', 'nothing:*'] });
  });

  it('refuses a path that does not exist, both scopes and preset, and a duplicate name', async () => {
    const { owner, org } = await shop();
    const bad = await server.request('POST', `/orgs/${org}/tokens`, { token: owner.token, payload: { name: 'x', preset: 'ci', path: 'acme-store/nowhere' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('body.path');
    const both = await server.request('POST', `/orgs/${org}/tokens`, { token: owner.token, payload: { name: 'x', preset: 'ci', scopes: ['*'] } });
    expect(both.status).toBe(400);
    await server.expect(201, 'POST', `/orgs/${org}/tokens`, { token: owner.token, payload: { name: 'dup', preset: 'ci' } });
    expect((await server.request('POST', `/orgs/${org}/tokens`, { token: owner.token, payload: { name: 'dup', preset: 'ci' } })).status).toBe(409);
  });

  it('is only for token:manage holders', async () => {
    const { owner, org } = await shop();
    const viewer = await server.user('viewer');
    const invitation = await server.expect(201, 'POST', `/orgs/${org}/invitations`, {
      token: owner.token,
      payload: { email: viewer.email, role: 'VIEWER' },
    });
    await server.expect(200, 'POST', `/invitations/${invitation.body.token}/accept`, { token: viewer.token });
    const refused = await server.request('POST', `/orgs/${org}/tokens`, { token: viewer.token, payload: { name: 'v', preset: 'read-only' } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.details.action).toBe('token:manage');
    expect((await server.request('GET', `/orgs/${org}/tokens`, { token: viewer.token })).status).toBe(403);
  });
});

describe('what a token may do (seed 003)', () => {
  it('scoped to acme-store/production/backend reads that service and nothing beside it', async () => {
    const { owner, org } = await shop();
    const { token } = await server.mint(owner.token, org, {
      scopes: ['organization:read', 'service:read', 'secret:read', 'secret:decrypt'],
      path: 'acme-store/production/backend',
    });
    await server.expect(200, 'GET', svc(org, 'acme-store/production/backend'), { token });
    expect((await server.request('GET', svc(org, 'acme-store/production/frontend'), { token })).status).toBe(404);
    expect((await server.request('GET', svc(org, 'acme-store/staging/backend'), { token })).status).toBe(404);
    expect((await server.request('GET', svc(org, 'blog/production/backend'), { token })).status).toBe(404);

    const check = await server.expect(200, 'POST', `/orgs/${org}/authz/check`, {
      token,
      payload: { action: 'secret:decrypt', resource: 'acme-store/production/backend' },
    });
    expect(check.body.allowed).toBe(true);
    expect((await server.request('POST', `/orgs/${org}/authz/check`, { token, payload: { action: 'secret:decrypt', resource: 'blog/production/backend' } })).status).toBe(404);
  });

  it('lists only its slice', async () => {
    const { owner, org } = await shop();
    const { token } = await server.mint(owner.token, org, { preset: 'read-only', path: 'acme-store/production' });
    const projects = await server.expect(200, 'GET', `/orgs/${org}/projects`, { token });
    expect(projects.body.items.map((p: { slug: string }) => p.slug)).toEqual(['acme-store']);
    const environments = await server.expect(200, 'GET', `/orgs/${org}/projects/acme-store/environments`, { token });
    expect(environments.body.items.map((e: { slug: string }) => e.slug)).toEqual(['production']);
    const services = await server.expect(200, 'GET', `/orgs/${org}/projects/acme-store/environments/production/services`, { token });
    expect(services.body.items).toHaveLength(2);
    expect((await server.request('GET', `/orgs/${org}/clusters`, { token })).body.items).toEqual([]);
  });

  it('with the read-only preset can read but not decrypt, and the 403 names the missing scope', async () => {
    const { owner, org } = await shop();
    const { token } = await server.mint(owner.token, org, { preset: 'read-only' });
    const read = await server.expect(200, 'POST', `/orgs/${org}/authz/check`, { token, payload: { action: 'secret:read', resource: 'acme-store/production' } });
    expect(read.body.allowed).toBe(true);
    const decrypt = await server.expect(200, 'POST', `/orgs/${org}/authz/check`, {
      token,
      payload: { action: 'secret:decrypt', resource: 'acme-store/production' },
    });
    expect(decrypt.body).toMatchObject({ allowed: false, reason: expect.stringContaining('lacks scope secret:decrypt') });
    const write = await server.request('PATCH', `/orgs/${org}/projects/acme-store`, { token, payload: { description: 'x' } });
    expect(write.status).toBe(403);
    expect(write.body.error.details.scope).toBe('project:write');
    expect(write.body.error.message).toContain('project:write');
  });

  it('with * passes every check in its organization and nothing in another', async () => {
    const { owner, org } = await shop();
    const other = await shop();
    const { token } = await server.mint(owner.token, org, { scopes: ['*'] });
    await server.expect(200, 'PATCH', `/orgs/${org}/projects/blog`, { token, payload: { description: 'by token' } });
    await server.expect(201, 'POST', `/orgs/${org}/clusters`, { token, payload: { name: 'k' } });
    expect((await server.request('GET', `/orgs/${other.org}`, { token })).status).toBe(404);
  });

  it('cannot do what only people do: create organizations, mint tokens, read /me', async () => {
    const { owner, org } = await shop();
    const { token } = await server.mint(owner.token, org, { scopes: ['*'] });
    expect((await server.request('POST', '/orgs', { token, payload: { slug: server.slug('o') } })).status).toBe(403);
    expect((await server.request('GET', '/me', { token })).status).toBe(403);
    expect((await server.request('POST', `/orgs/${org}/tokens`, { token, payload: { name: 'child', scopes: ['*'] } })).status).toBe(403);
  });

  it('is accepted as Authorization: Token as well as Bearer, never from the query string or a cookie', async () => {
    const { owner, org } = await shop();
    const { token } = await server.mint(owner.token, org, { preset: 'read-only' });
    await server.expect(200, 'GET', `/orgs/${org}`, { headers: { authorization: `Token ${token}` } });
    expect((await server.request('GET', `/orgs/${org}?token=${token}`)).status).toBe(401);
    expect((await server.request('GET', `/orgs/${org}?access_token=${token}`)).status).toBe(401);
    expect((await server.request('GET', `/orgs/${org}`, { cookies: { coffer_session: token } })).status).toBe(401);
  });
});

describe('revocation, expiry and checksums', () => {
  it('refuses a revoked token on the next request', async () => {
    const { owner, org } = await shop();
    const { id, token } = await server.mint(owner.token, org, { preset: 'read-only' });
    await server.expect(200, 'GET', `/orgs/${org}`, { token });
    const before = Date.now();
    await server.expect(204, 'DELETE', `/orgs/${org}/tokens/${id}`, { token: owner.token });
    const refused = await server.request('GET', `/orgs/${org}`, { token });
    expect(refused.status).toBe(401);
    // Its holder is told why (issue #11): revoked, and when; nothing more (no name, no organization).
    expect(refused.body.error.message).toMatch(/^This API token was revoked on \d{4}-\d\d-\d\dT/);
    expect(Object.keys(refused.body.error.details).sort()).toEqual(['reason', 'revoked_at']);
    expect(refused.body.error.details.reason).toBe('revoked');
    expect(Date.parse(refused.body.error.details.revoked_at)).toBeGreaterThanOrEqual(before - 1000);
    expect((await server.request('DELETE', `/orgs/${org}/tokens/${id}`, { token: owner.token })).status).toBe(404);
  });

  it.runIf(process.env.COFFER_TEST_BACKEND === 'postgres')('refuses a revoked token on every instance', async () => {
    const sibling = await server.sibling();
    try {
      const { owner, org } = await shop();
      const { id, token } = await server.mint(owner.token, org, { preset: 'read-only' });
      await sibling.expect(200, 'GET', `/orgs/${org}`, { token }); // cached on the sibling
      await server.expect(204, 'DELETE', `/orgs/${org}/tokens/${id}`, { token: owner.token });
      // NOTIFY is asynchronous: allow it to arrive, far sooner than any cache lifetime.
      for (let attempt = 0; attempt < 50 && (await sibling.request('GET', `/orgs/${org}`, { token })).status === 200; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect((await sibling.request('GET', `/orgs/${org}`, { token })).status).toBe(401);
    } finally {
      await sibling.close();
    }
  });

  it('refuses a token whose expiry has passed, and refuses to mint one already expired', async () => {
    const { owner, org } = await shop();
    const { id, token } = await server.mint(owner.token, org, { preset: 'read-only', expires_at: new Date(Date.now() + 3600_000).toISOString() });
    const past = new Date(Date.now() - 1000);
    await server.db.updateTable('api_tokens').set({ expires_at: past }).where('id', '=', id).execute();
    const expired = await server.request('GET', `/orgs/${org}`, { token });
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toBe(`This API token expired on ${past.toISOString()}`);
    expect(expired.body.error.details).toEqual({ reason: 'expired', expired_at: past.toISOString() });
    const refusal = await server.request('POST', `/orgs/${org}/tokens`, {
      token: owner.token,
      payload: { name: 'past', preset: 'ci', expires_at: new Date(Date.now() - 1000).toISOString() },
    });
    expect(refusal.status).toBe(400);
    expect(refusal.body.error.details.field).toBe('body.expires_at');
  });

  it('stops working at its expiry time without any change in the database', async () => {
    const { owner, org } = await shop();
    const soon = new Date(Date.now() + 1500);
    const { token } = await server.mint(owner.token, org, { preset: 'read-only', expires_at: soon.toISOString() });
    await server.expect(200, 'GET', `/orgs/${org}`, { token });
    await new Promise((resolve) => setTimeout(resolve, soon.getTime() - Date.now() + 50));
    expect((await server.request('GET', `/orgs/${org}`, { token })).status).toBe(401);
  });

  it('rejects a token with a bad checksum or an unknown one with 401', async () => {
    const { owner, org } = await shop();
    const { token } = await server.mint(owner.token, org, { preset: 'read-only' });
    const tampered = token.slice(0, -1) + (token.endsWith('a') ? 'b' : 'a');
    expect((await server.request('GET', `/orgs/${org}`, { token: tampered })).status).toBe(401);
    const unknown = await server.request('GET', `/orgs/${org}`, { token: generateApiToken() });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.details).toBeUndefined();
    expect(unknown.body.error.message).not.toMatch(/revoked|expired on/);
  });

  it('records last use at most once a minute', async () => {
    const { owner, org } = await shop();
    const { id, token } = await server.mint(owner.token, org, { preset: 'read-only' });
    await server.expect(200, 'GET', `/orgs/${org}`, { token });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const first = await server.db.selectFrom('api_tokens').select('last_used_at').where('id', '=', id).executeTakeFirstOrThrow();
    expect(first.last_used_at).not.toBeNull();
    for (let i = 0; i < 5; i++) await server.expect(200, 'GET', `/orgs/${org}`, { token });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const later = await server.db.selectFrom('api_tokens').select('last_used_at').where('id', '=', id).executeTakeFirstOrThrow();
    expect(later.last_used_at).toEqual(first.last_used_at);
  });
});

describe('no escalation', () => {
  async function member(org: string, ownerToken: string, role: string) {
    const user = await server.user(role.toLowerCase());
    const invitation = await server.expect(201, 'POST', `/orgs/${org}/invitations`, { token: ownerToken, payload: { email: user.email, role } });
    await server.expect(200, 'POST', `/invitations/${invitation.body.token}/accept`, { token: user.token });
    return user;
  }

  it('nobody mints organization:delete, and * (which leaves it out) is within what an ADMIN holds', async () => {
    const { owner, org } = await shop();
    const admin = await member(org, owner.token, 'ADMIN');
    const refused = await server.request('POST', `/orgs/${org}/tokens`, { token: admin.token, payload: { name: 'x', scopes: ['organization:delete'] } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toMatchObject({ field: 'body.scopes', scopes: ['organization:delete'] });
    await server.expect(201, 'POST', `/orgs/${org}/tokens`, { token: admin.token, payload: { name: 'y', scopes: ['*'] } });
    await server.expect(201, 'POST', `/orgs/${org}/tokens`, { token: admin.token, payload: { name: 'z', preset: 'ci' } });
    await server.expect(201, 'POST', `/orgs/${org}/tokens`, { token: owner.token, payload: { name: 'w', scopes: ['*'] } });
  });

  it.each(['DEVOPS', 'BILLING_MANAGER', 'VIEWER', 'AUDITOR', 'DEVELOPER', 'MEMBER', 'API_USER'])(
    'a %s, who lacks token:manage, cannot mint any token',
    async (role) => {
      const { owner, org } = await shop();
      const user = await member(org, owner.token, role);
      const refused = await server.request('POST', `/orgs/${org}/tokens`, { token: user.token, payload: { name: 'x', preset: 'read-only' } });
      expect(refused.status).toBe(403);
      expect(refused.body.error.details.action).toBe('token:manage');
    },
  );

  it('an ADMIN may mint * limited to a project, where organization:delete can never apply', async () => {
    const { owner, org } = await shop();
    const admin = await member(org, owner.token, 'ADMIN');
    const { token } = await server.mint(admin.token, org, { scopes: ['*'], path: 'acme-store' });
    expect((await server.request('DELETE', `/orgs/${org}`, { token })).status).toBe(403);
    await server.expect(200, 'PATCH', `/orgs/${org}/projects/acme-store`, { token, payload: { description: 'ok' } });
    expect((await server.request('PATCH', `/orgs/${org}/projects/blog`, { token, payload: { description: 'no' } })).status).toBe(404);
  });
});

describe('GET /token: a token asking what it is', () => {
  it('tells a token its organization, scopes and path; refuses people (they have /me) and strangers', async () => {
    const { owner, org } = await server.tree();
    const created = await server.expect(201, 'POST', `/orgs/${org}/tokens`, { token: owner.token, payload: { name: 'self-aware', preset: 'ci', path: 'shop/production' } });
    const described = await server.expect(200, 'GET', '/token', { token: created.body.token });
    expect(described.body).toMatchObject({ id: created.body.id, name: 'self-aware', path: 'shop/production', organization: { slug: org } });
    expect(described.body.scopes).toEqual(created.body.scopes);
    expect(described.body).not.toHaveProperty('token');
    expect((await server.request('GET', '/token', { token: owner.token })).status).toBe(400);
    expect((await server.request('GET', '/token')).status).toBe(401);
  });
});
