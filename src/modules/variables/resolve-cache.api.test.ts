import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer } from '../../../test/harness.js';
import { server, orgUrl, projectUrl, envUrl, svcUrl, idOf, define, remove, resolved, valueAt, expectError } from '../../../test/fixtures/resolve.js';

describe('cache invalidation on one instance', () => {
  it('shows every change on the very next resolution after a warm one', async () => {
    const { owner, org } = await server.tree();
    const token = (await server.mint(owner.token, org, { preset: 'ci' })).token;
    const value = async (key: string) => (await valueAt(svcUrl(org), token, key))?.value;
    const flat = async () => (await server.expect(200, 'GET', `${svcUrl(org)}/resolve?format=env-json`, { token })).body as Record<string, string>;

    const envId = await define(envUrl(org), owner.token, { key: 'FOO', value: 'v1' });
    expect(await value('FOO')).toBe('v1');
    expect((await flat()).FOO).toBe('v1');

    // An update.
    await server.expect(200, 'PATCH', `${envUrl(org)}/variables/${envId}`, { token: owner.token, payload: { value: 'v2' } });
    expect(await value('FOO')).toBe('v2');
    expect((await flat()).FOO).toBe('v2');

    // A definition at another (higher) level.
    const svcId = await define(svcUrl(org), owner.token, { key: 'FOO', value: 'from-service' });
    expect(await value('FOO')).toBe('from-service');
    expect((await flat()).FOO).toBe('from-service');

    // A new key at a lower level.
    await define(orgUrl(org), owner.token, { key: 'NEW_AT_ORG', value: 'org' });
    expect(await value('NEW_AT_ORG')).toBe('org');

    // The service's outputs, from which built-ins derive.
    expect(await value('COFFER_APPLICATION_BACKEND_URL')).toBe('https://backend.internal');
    await server.expect(200, 'PATCH', svcUrl(org), { token: owner.token, payload: { outputs: { url: 'https://moved.internal', port: '8443' } } });
    expect(await value('COFFER_APPLICATION_BACKEND_URL')).toBe('https://moved.internal');
    expect((await flat()).COFFER_APPLICATION_BACKEND_PORT).toBe('8443');

    // A deletion falls back to the lower level.
    await remove(svcUrl(org), svcId, owner.token);
    expect(await value('FOO')).toBe('v2');
    expect((await flat()).FOO).toBe('v2');

    // A rollback.
    await server.expect(200, 'POST', `${envUrl(org)}/variables/${envId}/rollback`, { token: owner.token, payload: { version: 1 } });
    expect(await value('FOO')).toBe('v1');

    // A service created in the environment brings its built-ins.
    await server.expect(201, 'POST', `${envUrl(org)}/services`, { token: owner.token, payload: { slug: 'cache', kind: 'database', outputs: { host: 'redis' } } });
    expect(await value('COFFER_DATABASE_CACHE_HOST')).toBe('redis');
  });

  it('never keeps what a resolution read while a write was committing: the next resolution after the write shows it', async () => {
    const { owner, org } = await server.tree();
    const token = (await server.mint(owner.token, org, { preset: 'ci' })).token;
    const envId = await define(envUrl(org), owner.token, { key: 'FOO', value: 'v0' });
    for (let round = 1; round <= 10; round += 1) {
      // A cold resolution racing with the write: whichever value it answers, it must not stay cached.
      await server.expect(201, 'POST', `${orgUrl(org)}/variables`, { token: owner.token, payload: { key: `COLD_${round}`, value: 'x' } });
      const racing = server.request('GET', `${svcUrl(org)}/resolve`, { token });
      await server.expect(200, 'PATCH', `${envUrl(org)}/variables/${envId}`, { token: owner.token, payload: { value: `v${round}` } });
      expect((await racing).status).toBe(200);
      expect((await valueAt(svcUrl(org), token, 'FOO'))?.value, `round ${round}`).toBe(`v${round}`);
    }
  });

  it('shows a member-assigned value created after the member resolved', async () => {
    const { owner, org } = await server.tree();
    const alice = await server.member(owner.token, org, 'DEVOPS');
    await define(projectUrl(org), owner.token, { key: 'ROLE', value: 'shared' });
    expect((await valueAt(svcUrl(org), alice.token, 'ROLE'))?.value).toBe('shared');
    expect((await valueAt(svcUrl(org), owner.token, 'ROLE', { member: alice.id }))?.value).toBe('shared');
    await define(projectUrl(org), owner.token, { key: 'ROLE', value: 'alice', assignee_user_id: alice.id });
    expect((await valueAt(svcUrl(org), alice.token, 'ROLE'))?.value).toBe('alice');
    expect((await valueAt(svcUrl(org), owner.token, 'ROLE', { member: alice.id }))?.value).toBe('alice');
  });

  it("refuses the next resolution once the caller's role loses secret:decrypt, though the answer was cached", async () => {
    const { owner, org } = await server.tree();
    const member = await server.member(owner.token, org, 'DEVOPS');
    await define(svcUrl(org), owner.token, { key: 'API_KEY', value: 'sk_cached_secret', type: 'secret' });
    expect((await valueAt(svcUrl(org), member.token, 'API_KEY'))?.value).toBe('sk_cached_secret');
    expect((await valueAt(svcUrl(org), member.token, 'API_KEY'))?.value).toBe('sk_cached_secret');

    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role: 'VIEWER' } });
    const refused = await server.request('GET', `${svcUrl(org)}/resolve`, { token: member.token });
    expectError(refused, 403, 'FORBIDDEN');
    expect(refused.body.error.details.action).toBe('secret:decrypt');
    expect(refused.raw.body).not.toContain('sk_cached_secret');
  });

  it('omits database credentials on the next resolution once the caller loses database:read_credentials', async () => {
    const { owner, org } = await server.tree();
    await server.expect(201, 'POST', `${envUrl(org)}/services`, { token: owner.token, payload: { slug: 'my-postgres', kind: 'database', outputs: { host: 'h', password: 'pw-cached' } } });
    const member = await server.member(owner.token, org, 'DEVOPS');
    const first = await resolved(svcUrl(org), member.token);
    expect(first.omitted).toEqual([]);
    expect(first.variables.find((v) => v.key === 'COFFER_DATABASE_MY_POSTGRES_PASSWORD')?.value).toBe('pw-cached');

    const productionId = await idOf(envUrl(org), owner.token);
    const role = await server.expect(201, 'POST', `/orgs/${org}/roles`, {
      token: owner.token,
      payload: { name: server.slug('role'), environment_permissions: [{ environment_id: productionId, permissions: ['FULL_VISIBILITY'] }] },
    });
    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role_id: role.body.id } });
    const response = await server.expect(200, 'GET', `${svcUrl(org)}/resolve`, { token: member.token });
    expect(response.body.omitted).toEqual(['COFFER_DATABASE_MY_POSTGRES_PASSWORD']);
    expect(response.raw.body).not.toContain('pw-cached');
  });
});

describe('cache invalidation across two instances', () => {
  const onPostgres = process.env.COFFER_TEST_BACKEND === 'postgres';
  let other: TestServer;
  beforeAll(async () => {
    if (onPostgres) other = await server.sibling();
  });
  afterAll(async () => {
    if (onPostgres) await other.close();
  });

  /** Resolves on `on` until `key` has `expected` (at most 200 tries); every value seen, in order. */
  async function until(on: TestServer, place: string, token: string, key: string, expected: string | undefined) {
    const seen: (string | undefined)[] = [];
    for (let attempt = 0; attempt < 200; attempt += 1) {
      seen.push((await valueAt(place, token, key, {}, on))?.value);
      if (seen.at(-1) === expected) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return seen;
  }

  it.skipIf(!onPostgres)('drops the cached answer on the other instance after each write there, in both directions, and applies a role change at once', async () => {
    const { owner, org } = await server.tree();
    const token = (await server.mint(owner.token, org, { preset: 'ci' })).token;
    const envId = await define(envUrl(org), owner.token, { key: 'FOO', value: 'v1' });
    expect((await valueAt(svcUrl(org), token, 'FOO', {}, other))?.value).toBe('v1');
    expect((await valueAt(svcUrl(org), token, 'FOO', {}, other))?.value).toBe('v1');

    const writes: [string, () => Promise<unknown>, string, string | undefined][] = [
      ['update', () => server.expect(200, 'PATCH', `${envUrl(org)}/variables/${envId}`, { token: owner.token, payload: { value: 'v2' } }), 'FOO', 'v2'],
      ['create at the service level', () => define(svcUrl(org), owner.token, { key: 'FOO', value: 'from-service' }), 'FOO', 'from-service'],
      ['service outputs', () => server.expect(200, 'PATCH', svcUrl(org), { token: owner.token, payload: { outputs: { url: 'https://moved.internal' } } }), 'COFFER_APPLICATION_BACKEND_URL', 'https://moved.internal'],
      ['create at the organization level', () => define(orgUrl(org), owner.token, { key: 'ORG_WIDE', value: 'yes' }), 'ORG_WIDE', 'yes'],
    ];
    for (const [name, write, key, expected] of writes) {
      await write();
      const seen = await until(other, svcUrl(org), token, key, expected);
      expect(seen.at(-1), `${name}: ${JSON.stringify(seen)}`).toBe(expected);
    }
    const svcId = (await resolved(svcUrl(org), token)).variables.find((v) => v.key === 'FOO')!.variable_id!;
    await remove(svcUrl(org), svcId, owner.token);
    expect((await until(other, svcUrl(org), token, 'FOO', 'v2')).at(-1)).toBe('v2');

    // Written on the sibling, read on the first instance.
    expect((await valueAt(svcUrl(org), token, 'FOO'))?.value).toBe('v2');
    await other.expect(200, 'PATCH', `${envUrl(org)}/variables/${envId}`, { token: owner.token, payload: { value: 'from-sibling' } });
    expect((await until(server, svcUrl(org), token, 'FOO', 'from-sibling')).at(-1)).toBe('from-sibling');

    // Permissions are never cached: a role changed on one instance applies on the other's next request.
    const member = await server.member(owner.token, org, 'DEVOPS');
    expect((await valueAt(svcUrl(org), member.token, 'FOO', {}, other))?.value).toBe('from-sibling');
    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role: 'VIEWER' } });
    const refused = await other.request('GET', `${svcUrl(org)}/resolve`, { token: member.token });
    expectError(refused, 403, 'FORBIDDEN');
  });

  /*
   * Was a bug: the writer answered once it had sent its NOTIFY, and the other instance served
   * its cached answer until the notification arrived. Now publish() waits for every listening
   * instance to acknowledge, and each acknowledges only after evicting; many rounds, so a race
   * would show.
   */
  it.skipIf(!onPostgres)('shows a write made on one instance on the very next resolution on the other', async () => {
    const { owner, org } = await server.tree();
    const token = (await server.mint(owner.token, org, { preset: 'ci' })).token;
    const envId = await define(envUrl(org), owner.token, { key: 'FOO', value: 'v0' });
    expect((await valueAt(svcUrl(org), token, 'FOO', {}, other))?.value).toBe('v0');
    const stale: string[] = [];
    for (let round = 1; round <= 30; round += 1) {
      await server.expect(200, 'PATCH', `${envUrl(org)}/variables/${envId}`, { token: owner.token, payload: { value: `v${round}` } });
      const next = (await valueAt(svcUrl(org), token, 'FOO', {}, other))?.value;
      if (next !== `v${round}`) stale.push(`round ${round}: ${next}`);
      // Let the notification land before the next round, so each round starts warm and settled.
      await until(other, svcUrl(org), token, 'FOO', `v${round}`);
    }
    expect(stale).toEqual([]);
  });
});
