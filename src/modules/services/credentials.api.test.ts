import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';

/**
 * A database's user name is a credential (SPEC §2.1): whoever lacks database:read_credentials
 * gets it neither from resolution nor from the service's own view (issue #18).
 */

// Naming rules, unique names, closed values (type, kind), deletion and paging, shared by every collection: test/collections.api.test.ts.
const server = useTestServer();

const OUTPUTS = { host: 'pg.internal', port: '5432', username: 'shop_app', password: 'correct-horse-battery-staple' };

async function database() {
  const { owner, org } = await server.tree();
  const base = `/orgs/${org}/projects/shop/environments/production/services`;
  await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'pg', kind: 'database', outputs: OUTPUTS } });
  await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'api', kind: 'application', outputs: { user: 'api-user' } } });
  return { owner, org, base };
}

describe("a database service's user output", () => {
  it('is masked for a VIEWER in get and list, like every credential it may not read', async () => {
    const { owner, org, base } = await database();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const got = await server.expect(200, 'GET', `${base}/pg`, { token: viewer.token });
    expect(got.body.outputs).toEqual({ host: 'pg.internal', port: '5432', username: '********', password: 'cor********ple' });
    const list = await server.expect(200, 'GET', base, { token: viewer.token });
    expect(list.body.items.find((s: { slug: string }) => s.slug === 'pg').outputs.username).toBe('********');
    expect(JSON.stringify(got.body) + JSON.stringify(list.body)).not.toContain('shop_app');
    // Outside a database, a user output is no credential.
    expect((await server.expect(200, 'GET', `${base}/api`, { token: viewer.token })).body.outputs).toEqual({ user: 'api-user' });
  });

  it('shows in clear to those who may read credentials (OWNER, DEVOPS)', async () => {
    const { owner, org, base } = await database();
    const devops = await server.member(owner.token, org, 'DEVOPS');
    for (const token of [owner.token, devops.token]) {
      expect((await server.expect(200, 'GET', `${base}/pg`, { token })).body.outputs.username).toBe('shop_app');
    }
  });

  it('follows the same rule as resolution: a token that decrypts but may not read credentials gets it from neither', async () => {
    const { owner, org, base } = await database();
    const created = await server.expect(201, 'POST', `/orgs/${org}/tokens`, {
      token: owner.token,
      payload: { name: 'deployer', scopes: ['service:read', 'secret:decrypt'] },
    });
    const token = created.body.token as string;
    expect((await server.expect(200, 'GET', `${base}/pg`, { token })).body.outputs.username).toBe('********');
    const resolved = await server.expect(200, 'GET', `/orgs/${org}/projects/shop/environments/production/resolve`, { token });
    expect(resolved.body.omitted).toEqual(expect.arrayContaining(['COFFER_DATABASE_PG_USERNAME', 'COFFER_DATABASE_PG_PASSWORD']));
    expect(JSON.stringify(resolved.body)).not.toContain('shop_app');

    const trusted = await server.expect(201, 'POST', `/orgs/${org}/tokens`, {
      token: owner.token,
      payload: { name: 'operator', scopes: ['service:read', 'secret:decrypt', 'database:read_credentials'] },
    });
    expect((await server.expect(200, 'GET', `${base}/pg`, { token: trusted.body.token })).body.outputs.username).toBe('shop_app');
    const full = await server.expect(200, 'GET', `/orgs/${org}/projects/shop/environments/production/resolve`, { token: trusted.body.token });
    expect(full.body.variables).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'COFFER_DATABASE_PG_USERNAME', value: 'shop_app' })]));
  });
});
