import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { server, orgUrl, projectUrl, envUrl, svcUrl, idOf, define, valueAt, expectError } from '../../../test/fixtures/resolve.js';

describe('resolution errors', () => {
  it('answers 422 naming both keys for a reference to a missing key', async () => {
    const { owner, org } = await server.tree();
    await define(envUrl(org), owner.token, { key: 'SERVICE_URL', value: 'https://${UPSTREAM_HOST}/api' });
    const response = await server.request('GET', `${svcUrl(org)}/resolve`, { token: owner.token });
    expectError(response, 422, 'UNPROCESSABLE');
    expect(response.body.error.message).toContain('SERVICE_URL');
    expect(response.body.error.message).toContain('UPSTREAM_HOST');
    expect(response.body.error.details).toEqual({ key: 'SERVICE_URL', missing: 'UPSTREAM_HOST' });
    // Every format refuses it the same way.
    expectError(await server.request('GET', `${envUrl(org)}/resolve?format=dotenv`, { token: owner.token }), 422, 'UNPROCESSABLE');
  });

  it('answers 422 naming the key when references expand past what a value may hold', async () => {
    const { owner, org } = await server.tree();
    // Each level multiplies by 200: 8 MB for A if nothing stopped it, and 1.6 GB with one level more.
    await define(envUrl(org), owner.token, { key: 'A', value: '${B}'.repeat(200) });
    await define(envUrl(org), owner.token, { key: 'B', value: '${C}'.repeat(200) });
    await define(envUrl(org), owner.token, { key: 'C', value: 'x'.repeat(200) });
    for (const format of ['json', 'dotenv']) {
      const response = await server.request('GET', `${envUrl(org)}/resolve?format=${format}`, { token: owner.token });
      expectError(response, 422, 'UNPROCESSABLE');
      expect(response.body.error.message).toBe('Variable A expands to more than 65536 bytes, the most a plain value may hold');
      expect(response.body.error.details).toEqual({ key: 'A', limit_bytes: 65536 });
    }
  });

  it('answers 422 naming the cycle for references in a cycle, across levels', async () => {
    const { owner, org } = await server.tree();
    await define(projectUrl(org), owner.token, { key: 'PING', value: 'ping ${PONG}' });
    await define(svcUrl(org), owner.token, { key: 'PONG', value: 'pong ${PING}' });
    const response = await server.request('GET', `${svcUrl(org)}/resolve`, { token: owner.token });
    expectError(response, 422, 'UNPROCESSABLE');
    expect(new Set(response.body.error.details.cycle)).toEqual(new Set(['PING', 'PONG']));
    expect(response.body.error.message).toContain('PING');
    expect(response.body.error.message).toContain('PONG');
    // The environment does not see PONG (a service variable): there PING's reference is missing.
    const atEnvironment = await server.request('GET', `${envUrl(org)}/resolve`, { token: owner.token });
    expectError(atEnvironment, 422, 'UNPROCESSABLE');
    expect(atEnvironment.body.error.details).toEqual({ key: 'PING', missing: 'PONG' });
  });

  it('answers 422 for a self-reference, and 200 again once the value is fixed', async () => {
    const { owner, org } = await server.tree();
    const id = await define(svcUrl(org), owner.token, { key: 'SELF', value: '${SELF}' });
    const response = await server.request('GET', `${svcUrl(org)}/resolve`, { token: owner.token });
    expectError(response, 422, 'UNPROCESSABLE');
    expect(response.body.error.details.cycle).toEqual(['SELF', 'SELF']);
    await server.expect(200, 'PATCH', `${svcUrl(org)}/variables/${id}`, { token: owner.token, payload: { value: 'fixed' } });
    expect(await valueAt(svcUrl(org), owner.token, 'SELF')).toMatchObject({ value: 'fixed' });
  });
});

describe('who may resolve', () => {
  async function withStaging() {
    const { owner, org } = await server.tree();
    await server.expect(201, 'POST', `${projectUrl(org)}/environments`, { token: owner.token, payload: { slug: 'staging', type: 'STAGING' } });
    await define(svcUrl(org), owner.token, { key: 'API_KEY', value: 'canary_secret_0123456789', type: 'secret' });
    return { owner, org };
  }

  it('refuses a VIEWER with 403 naming secret:decrypt, though they may list the variables masked', async () => {
    const { owner, org } = await withStaging();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    const listed = await server.expect(200, 'GET', `${svcUrl(org)}/variables`, { token: viewer.token });
    expect(JSON.stringify(listed.body)).not.toContain('canary_secret_0123456789');
    for (const place of [svcUrl(org), envUrl(org)]) {
      const response = await server.request('GET', `${place}/resolve`, { token: viewer.token });
      expectError(response, 403, 'FORBIDDEN');
      expect(response.body.error.details.action).toBe('secret:decrypt');
      expect(response.body.error.message).toContain('secret:decrypt');
      expect(response.raw.body).not.toContain('canary_secret_0123456789');
    }
  });

  it('lets a ci token resolve, refuses a read-only token with 403, and hides production from a token restricted to staging (404)', async () => {
    const { owner, org } = await withStaging();
    const ci = await server.mint(owner.token, org, { preset: 'ci' });
    expect(await valueAt(svcUrl(org), ci.token, 'API_KEY')).toMatchObject({ value: 'canary_secret_0123456789' });
    const ciHere = await server.mint(owner.token, org, { preset: 'ci', path: 'shop/production/backend' });
    expect(await valueAt(svcUrl(org), ciHere.token, 'API_KEY')).toMatchObject({ value: 'canary_secret_0123456789' });

    const readOnly = await server.mint(owner.token, org, { preset: 'read-only' });
    const refused = await server.request('GET', `${svcUrl(org)}/resolve`, { token: readOnly.token });
    expectError(refused, 403, 'FORBIDDEN');
    expect(refused.body.error.details.action).toBe('secret:decrypt');

    const staging = await server.mint(owner.token, org, { preset: 'ci', path: 'shop/staging' });
    await server.expect(200, 'GET', `${envUrl(org, 'staging')}/resolve`, { token: staging.token });
    for (const place of [svcUrl(org), envUrl(org)]) {
      const hidden = await server.request('GET', `${place}/resolve`, { token: staging.token });
      expectError(hidden, 404, 'NOT_FOUND');
      expect(hidden.raw.body).not.toContain('canary_secret_0123456789');
    }
  });
});

describe('the READ_SECRET event', () => {
  /** The stored events, with each one's key list (stored once apart, by digest) in place. */
  async function events(orgId: string) {
    const rows = await server.db.selectFrom('audit_events').selectAll().where('organization_id', '=', orgId).where('event_type', '=', 'READ_SECRET').orderBy('seq').execute();
    const sets = await server.db.selectFrom('audit_key_sets').select(['digest', 'keys']).where('organization_id', '=', orgId).execute();
    const keysOf = new Map(sets.map((set) => [set.digest, set.keys]));
    return rows.map((row) => ({ ...row, details: { ...row.details, keys: keysOf.get(row.details.key_set as string) } }));
  }

  it('records exactly one event per resolution, naming path, keys, format and caller, without any value', async () => {
    const { owner, org } = await server.tree();
    const orgId = await idOf(orgUrl(org), owner.token);
    const SECRET = `canary_secret_${randomBytes(12).toString('hex')}`;
    const PLAIN_MARKER = `plain-${randomBytes(6).toString('hex')}`;
    const PG_PASSWORD = `pgpw-${randomBytes(6).toString('hex')}`;
    await define(svcUrl(org), owner.token, { key: 'API_KEY', value: SECRET, type: 'secret' });
    await define(envUrl(org), owner.token, { key: 'GREETING', value: PLAIN_MARKER });
    await define(svcUrl(org), owner.token, { key: 'WRAPPED', value: '[${API_KEY}]' });
    await define(orgUrl(org), owner.token, { type: 'pg_service', pg_service: { service: 'ninja', user: 'u', password: PG_PASSWORD } });
    const keys = ['API_KEY', 'COFFER_APPLICATION_BACKEND_URL', 'GREETING', 'WRAPPED'];

    let seen = (await events(orgId)).length;
    for (const format of ['json', 'dotenv', 'env-json', 'shell', 'yaml', 'pg_service']) {
      // Twice: the second answer comes from the cache and must be recorded all the same.
      for (let round = 0; round < 2; round += 1) {
        const response = await server.expect(200, 'GET', `${svcUrl(org)}/resolve?format=${format}`, { token: owner.token });
        if (format !== 'pg_service') expect(response.raw.body).toContain(SECRET);
        const all = await events(orgId);
        expect(all.length, `${format} round ${round}`).toBe(seen + 1);
        seen = all.length;
        const event = all.at(-1)!;
        expect(event).toMatchObject({
          event_type: 'READ_SECRET',
          target_type: 'service',
          target_name: 'shop/production/backend',
          actor_type: 'user',
          actor_id: owner.id,
          actor_name: owner.email,
        });
        expect(event.details).toMatchObject({ path: 'shop/production/backend', format, keys, pg_services: ['ninja'], omitted: [], member_id: owner.id });
        const serialized = JSON.stringify(event);
        expect(serialized).not.toContain(SECRET);
        expect(serialized).not.toContain(PLAIN_MARKER);
        expect(serialized).not.toContain(PG_PASSWORD);
      }
    }

    // An environment resolution names the environment; a token is the actor when it resolves.
    const ci = await server.mint(owner.token, org, { preset: 'ci' });
    await server.expect(200, 'GET', `${envUrl(org)}/resolve?format=env-json`, { token: ci.token });
    const all = await events(orgId);
    expect(all.length).toBe(seen + 1);
    expect(all.at(-1)).toMatchObject({ target_type: 'environment', target_name: 'shop/production', actor_type: 'token', actor_id: ci.id });
    expect(all.at(-1)!.details).toMatchObject({ format: 'env-json', keys: ['COFFER_APPLICATION_BACKEND_URL', 'GREETING'], member_id: null });
  });

  it('records a resolution on behalf of a member with that member, and none for a refused or failed one', async () => {
    const { owner, org } = await server.tree();
    const orgId = await idOf(orgUrl(org), owner.token);
    const alice = await server.member(owner.token, org, 'DEVOPS');
    const viewer = await server.member(owner.token, org, 'VIEWER');
    await define(projectUrl(org), owner.token, { key: 'MINE', value: 'alice-only', assignee_user_id: alice.id });

    await server.expect(200, 'GET', `${svcUrl(org)}/resolve?member=${alice.id}`, { token: owner.token });
    const after = await events(orgId);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ actor_id: owner.id });
    expect(after[0]!.details).toMatchObject({ member_id: alice.id, keys: ['COFFER_APPLICATION_BACKEND_URL', 'MINE'] });
    expect(JSON.stringify(after[0])).not.toContain('alice-only');

    expect((await server.request('GET', `${svcUrl(org)}/resolve`, { token: viewer.token })).status).toBe(403);
    await define(svcUrl(org), owner.token, { key: 'BROKEN', value: '${NOWHERE}' });
    expect((await server.request('GET', `${svcUrl(org)}/resolve`, { token: owner.token })).status).toBe(422);
    expect(await events(orgId)).toHaveLength(1);
  });
});
