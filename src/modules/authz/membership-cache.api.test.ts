import { describe, expect, it } from 'vitest';
import { useServerAndReader } from '../../../test/harness.js';

const onPostgres = process.env.COFFER_TEST_BACKEND === 'postgres';
/** Where people's memberships and sessions are cached: a second instance on PostgreSQL, the same one on PGlite. */
const { server, reader } = useServerAndReader();

const service = (org: string) => `/orgs/${org}/projects/shop/environments/production/services/backend`;

/** What `authz/check` answers on the reader for `token` about deployment:trigger on the service. */
async function mayDeploy(org: string, token: string): Promise<boolean> {
  const answer = await reader.expect(200, 'POST', `/orgs/${org}/authz/check`, {
    token,
    payload: { action: 'deployment:trigger', resource: 'shop/production/backend' },
  });
  return answer.body.allowed as boolean;
}

/** The organizations GET /me lists on the reader, slug → role. */
async function mine(token: string): Promise<Record<string, string>> {
  const me = await reader.expect(200, 'GET', '/me', { token });
  return Object.fromEntries((me.body.organizations as { slug: string; role: string }[]).map((o) => [o.slug, o.role]));
}

// No retries anywhere: each change answers only once every instance has dropped what it cached.
describe(`cached memberships and sessions (${onPostgres ? 'two instances' : 'one instance'})`, () => {
  it('applies a role change, a custom role edit and a removal on the very next request', async () => {
    const { owner, org } = await server.tree();
    const member = await server.member(owner.token, org, 'DEVOPS');
    // Warm: twice, so the second answer comes from the reader's caches.
    for (let i = 0; i < 2; i += 1) {
      expect(await mayDeploy(org, member.token)).toBe(true);
      expect(await mine(member.token)).toEqual({ [org]: 'DEVOPS' });
    }

    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role: 'VIEWER' } });
    expect(await mayDeploy(org, member.token)).toBe(false);
    expect(await mine(member.token)).toEqual({ [org]: 'VIEWER' });
    await reader.expect(403, 'POST', `/orgs/${org}/projects/shop/environments/production/services`, { token: member.token, payload: { slug: 'refused', kind: 'application' } });

    // A custom role: its holder's grants follow every edit of the role.
    const projectId = (await server.expect(200, 'GET', `/orgs/${org}/projects/shop`, { token: owner.token })).body.id as string;
    const levels = (production: string) => ({
      name: 'Deployers',
      project_permissions: [
        { project_id: projectId, is_admin: false, permissions: [{ environment_type: 'PRODUCTION', permission: production }] },
      ],
    });
    const role = (await server.expect(201, 'POST', `/orgs/${org}/roles`, { token: owner.token, payload: levels('DEPLOYER') })).body as { id: string };
    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role_id: role.id } });
    expect(await mayDeploy(org, member.token)).toBe(true);
    expect(await mayDeploy(org, member.token)).toBe(true);
    await server.expect(200, 'PUT', `/orgs/${org}/roles/${role.id}`, { token: owner.token, payload: levels('VIEWER') });
    expect(await mayDeploy(org, member.token)).toBe(false);
    await reader.expect(200, 'GET', service(org), { token: member.token });

    await server.expect(204, 'DELETE', `/orgs/${org}/members/${member.id}`, { token: owner.token });
    await reader.expect(404, 'GET', service(org), { token: member.token });
    await reader.expect(404, 'POST', `/orgs/${org}/authz/check`, { token: member.token, payload: { action: 'organization:read' } });
    expect(await mine(member.token)).toEqual({});
  });

  it('shows a joined, created or transferred organization in GET /me at once', async () => {
    const { owner, org } = await server.tree();
    const user = await server.user('joiner');
    expect(await mine(user.token)).toEqual({});
    expect(await mine(user.token)).toEqual({});
    await server.join(owner.token, org, user, 'DEVELOPER');
    expect(await mine(user.token)).toEqual({ [org]: 'DEVELOPER' });

    const own = server.slug('org');
    await server.expect(201, 'POST', '/orgs', { token: user.token, payload: { slug: own } });
    expect(await mine(user.token)).toEqual({ [org]: 'DEVELOPER', [own]: 'OWNER' });

    expect(await mine(owner.token)).toEqual({ [org]: 'OWNER' });
    await server.expect(204, 'POST', `/orgs/${org}/transfer-ownership`, { token: owner.token, payload: { user_id: user.id } });
    expect(await mine(owner.token)).toEqual({ [org]: 'ADMIN' });
    expect(await mine(user.token)).toEqual({ [org]: 'OWNER', [own]: 'OWNER' });
    expect(await mayDeploy(org, user.token)).toBe(true);
  });

  it('refuses a signed-out or revoked session and a revoked API token on the very next request', async () => {
    const { owner, org } = await server.tree();
    const other = await server.request('POST', '/auth/login', { payload: { email: owner.email, password: 'correct horse battery staple' } });
    expect(other.status).toBe(200);
    const second = other.body.token as string;
    const minted = await server.mint(owner.token, org, { preset: 'read-only' });
    for (const token of [owner.token, second, minted.token]) {
      await reader.expect(200, 'GET', service(org), { token });
      await reader.expect(200, 'GET', service(org), { token });
    }

    const sessions = (await server.expect(200, 'GET', '/me/sessions', { token: owner.token })).body.items as { id: string; current: boolean }[];
    const secondId = sessions.find((s) => !s.current)!.id;
    await server.expect(204, 'DELETE', `/me/sessions/${secondId}`, { token: owner.token });
    await reader.expect(401, 'GET', service(org), { token: second });
    await reader.expect(401, 'GET', '/me', { token: second });

    await server.expect(204, 'DELETE', `/orgs/${org}/tokens/${minted.id}`, { token: owner.token });
    await reader.expect(401, 'GET', service(org), { token: minted.token });

    await reader.expect(200, 'GET', '/me', { token: owner.token });
    await server.expect(204, 'POST', '/auth/logout', { token: owner.token });
    await reader.expect(401, 'GET', '/me', { token: owner.token });
    await reader.expect(401, 'GET', service(org), { token: owner.token });
  });
});
