import { describe, expect, it } from 'vitest';
import { expectError, expectInvalidField, useTestServer } from '../../../test/harness.js';

// Naming rules, unique names, closed values (type, kind), deletion and paging, shared by every collection: test/collections.api.test.ts.
const server = useTestServer();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** server.tree(): an owner, an org with project "shop", environment "production" and service "backend". */
async function tree() {
  const { owner, org } = await server.tree();
  return { owner, org, base: `/orgs/${org}/projects/shop/environments/production/services` };
}

/** The outputs as the server reads them back: unsealed with the project's data key. */
async function storedOutputs(serviceId: string) {
  const row = await server.db.selectFrom('services').selectAll().where('id', '=', serviceId).executeTakeFirstOrThrow();
  const [opened] = await server.serviceOutputs.open(server.db, [row]);
  return opened!.outputs;
}

/** Every column of the service's row as text: what someone reading the database sees. */
async function rawRow(serviceId: string) {
  const row = await server.db.selectFrom('services').selectAll().where('id', '=', serviceId).executeTakeFirstOrThrow();
  return JSON.stringify(row) + (row.outputs_sealed ? row.outputs_sealed.toString('latin1') : '');
}

describe('services: happy path', () => {
  it('creates a service with 201 and returns its full shape', async () => {
    const { owner, base } = await tree();
    const response = await server.expect(201, 'POST', base, {
      token: owner.token,
      payload: { slug: 'worker', name: 'Queue worker', kind: 'job' },
    });
    expect(response.body).toEqual({
      id: expect.stringMatching(UUID),
      slug: 'worker',
      name: 'Queue worker',
      kind: 'job',
      outputs: {},
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
  });

  it('defaults a service name to its slug', async () => {
    const { owner, base } = await tree();
    const response = await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'cron', kind: 'job' } });
    expect(response.body.name).toBe('cron');
  });

  it.each(['application', 'database', 'job', 'container'])('accepts the service kind %s', async (kind) => {
    const { owner, base } = await tree();
    const response = await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'svc', kind } });
    expect(response.body.kind).toBe(kind);
  });

  it('edits name, kind and outputs of a service with PATCH; new outputs replace the old ones', async () => {
    const { owner, base } = await tree();
    const patched = await server.expect(200, 'PATCH', `${base}/backend`, {
      token: owner.token,
      payload: { name: 'Backend', kind: 'container', outputs: { host: 'backend.svc', port: '8080' } },
    });
    expect(patched.body).toMatchObject({ slug: 'backend', name: 'Backend', kind: 'container', outputs: { host: 'backend.svc', port: '8080' } });
    const got = await server.expect(200, 'GET', `${base}/backend`, { token: owner.token });
    expect(got.body.outputs).toEqual({ host: 'backend.svc', port: '8080' });
  });

  it('keeps the outputs when a PATCH does not mention them', async () => {
    const { owner, base } = await tree();
    const patched = await server.expect(200, 'PATCH', `${base}/backend`, { token: owner.token, payload: { name: 'Renamed' } });
    expect(patched.body.outputs).toEqual({ url: 'https://backend.internal' });
  });

  it('clears the outputs with PATCH outputs {}', async () => {
    const { owner, base } = await tree();
    const patched = await server.expect(200, 'PATCH', `${base}/backend`, { token: owner.token, payload: { outputs: {} } });
    expect(patched.body.outputs).toEqual({});
  });

  it('renames a service slug with PATCH', async () => {
    const { owner, base } = await tree();
    const patched = await server.expect(200, 'PATCH', `${base}/backend`, { token: owner.token, payload: { slug: 'api' } });
    expect(patched.body.slug).toBe('api');
    await server.expect(404, 'GET', `${base}/backend`, { token: owner.token });
    await server.expect(200, 'GET', `${base}/api`, { token: owner.token });
  });
});

describe('services: output names', () => {
  it.each([
    ['starting with a capital', 'Host'],
    ['with a dash', 'api-url'],
    ['starting with a digit', '1port'],
  ])('refuses an output name %s with 400', async (_label, name) => {
    const { owner, base } = await tree();
    const response = await server.request('POST', base, {
      token: owner.token,
      payload: { slug: 'svc', kind: 'application', outputs: { [name]: 'value' } },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.body.error.details.field).toMatch(/^body\.outputs/);
  });

  it('never shows a capitalised secret output name in clear', async () => {
    const { owner, base } = await tree();
    const response = await server.request('POST', base, {
      token: owner.token,
      payload: { slug: 'svc', kind: 'database', outputs: { PASSWORD: 'correct-horse-battery' } },
    });
    expect(JSON.stringify(response.body)).not.toContain('correct-horse-battery');
  });
});

describe('services: output values', () => {
  it.each([
    ['a NUL character', 'db\u0000.internal', /NUL/],
    ['a lone surrogate', 'db\ud800.internal', /lone (UTF-16 )?surrogate/],
  ])('refuses an output value holding %s with 400 naming the output, on create and on edit', async (_label, value, reason) => {
    const { owner, base } = await tree();
    const created = await server.request('POST', base, { token: owner.token, payload: { slug: 'svc', kind: 'database', outputs: { port: '5432', host: value } } });
    expectError(created, 400, 'VALIDATION_FAILED', { field: 'body.outputs.host', reason: expect.stringMatching(reason) });
    await server.expect(404, 'GET', `${base}/svc`, { token: owner.token });

    const edited = await server.request('PATCH', `${base}/backend`, { token: owner.token, payload: { outputs: { password: value } } });
    expect(edited.status).toBe(400);
    expect(edited.body.error.details).toEqual({ field: 'body.outputs.password', reason: expect.stringMatching(reason) });
    expect((await server.expect(200, 'GET', `${base}/backend`, { token: owner.token })).body.outputs).toEqual({ url: 'https://backend.internal' });
  });
});

describe('services: outputs and masking', () => {
  const outputs = {
    host: 'db.internal',
    port: '5432',
    username: 'app',
    database: 'shop',
    password: 'correct-horse-battery-staple', // 28 characters
    api_token: 'short', // under 24 characters
    client_secret: 'abcdefghijklmnopqrstuvwx', // exactly 24 characters
    secret_key: 'abcdefghijklmnopqrstuvw', // 23 characters
    refresh_token_url: 'https://auth.internal/refresh-token-endpoint',
  };
  const shown = {
    host: 'db.internal',
    port: '5432',
    username: 'app',
    database: 'shop',
    password: 'cor********ple',
    api_token: '********',
    client_secret: 'abc********vwx',
    secret_key: '********',
    refresh_token_url: 'htt********int',
  };

  it('masks secret outputs (password, secret, token) in the creation response and shows the others in clear', async () => {
    const { owner, base } = await tree();
    const created = await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'pg', kind: 'database', outputs } });
    expect(created.body.outputs).toEqual(shown);
    expect(JSON.stringify(created.body)).not.toContain('correct-horse-battery');
  });

  it('masks secret outputs in get, list and PATCH responses too', async () => {
    const { owner, base } = await tree();
    await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'pg', kind: 'database', outputs } });
    const got = await server.expect(200, 'GET', `${base}/pg`, { token: owner.token });
    expect(got.body.outputs).toEqual(shown);
    const list = await server.expect(200, 'GET', base, { token: owner.token });
    expect(list.body.items.find((s: { slug: string }) => s.slug === 'pg').outputs).toEqual(shown);
    const patched = await server.expect(200, 'PATCH', `${base}/pg`, { token: owner.token, payload: { name: 'Postgres' } });
    expect(patched.body.outputs).toEqual(shown);
    const replaced = await server.expect(200, 'PATCH', `${base}/pg`, {
      token: owner.token,
      payload: { outputs: { password: 'another-long-password-value' } },
    });
    expect(replaced.body.outputs).toEqual({ password: 'ano********lue' });
  });

  it('stores outputs in full but sealed: masking happens only in responses, and the row holds no value in clear', async () => {
    const { owner, base } = await tree();
    const created = await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'pg', kind: 'database', outputs } });
    expect(await storedOutputs(created.body.id)).toEqual(outputs);
    await server.expect(200, 'PATCH', `${base}/pg`, { token: owner.token, payload: { name: 'Renamed' } });
    expect(await storedOutputs(created.body.id)).toEqual(outputs);
    const raw = await rawRow(created.body.id);
    for (const value of Object.values(outputs)) expect(raw).not.toContain(value);
  });

  it('refuses to serve outputs sealed for another service (DECRYPTION_FAILED naming the service)', async () => {
    const { owner, base } = await tree();
    const a = await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'a', kind: 'database', outputs } });
    const b = await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'b', kind: 'database', outputs: { host: 'x' } } });
    const sealedA = await server.db.selectFrom('services').select('outputs_sealed').where('id', '=', a.body.id).executeTakeFirstOrThrow();
    await server.db.updateTable('services').set({ outputs_sealed: sealedA.outputs_sealed }).where('id', '=', b.body.id).execute();
    const refused = await server.request('GET', `${base}/b`, { token: owner.token });
    expect(refused.status).toBe(500);
    expect(refused.body.error).toMatchObject({ code: 'DECRYPTION_FAILED' });
    expect(refused.body.error.message).toContain('service b');
    expect(JSON.stringify(refused.body)).not.toContain(outputs.password);
  });

  it('masks by characters, not bytes, for non-ASCII secret values', async () => {
    const { owner, base } = await tree();
    const created = await server.expect(201, 'POST', base, {
      token: owner.token,
      payload: { slug: 'pg', kind: 'database', outputs: { password: 'ééé-a-longer-passphrase-ñññ' } },
    });
    expect(created.body.outputs.password).toBe('ééé********ñññ');
  });

  it.each([
    ['that is not a string', { extra: { nested: true } }, 'body.outputs.extra'],
    ['over 4096 characters', { url: 'x'.repeat(4097) }, 'body.outputs.url'],
  ])('refuses an output value %s with 400 naming the output', async (_label, outputs, field) => {
    const { owner, base } = await tree();
    expectInvalidField(await server.request('POST', base, { token: owner.token, payload: { slug: 'svc', kind: 'application', outputs } }), field);
  });
});

describe('services: outputs stored in clear by an earlier version', () => {
  it('are sealed by sealLegacy (run at every server start), and read the same afterwards', async () => {
    const { owner, base } = await tree();
    const created = await server.expect(201, 'POST', base, { token: owner.token, payload: { slug: 'old', kind: 'database' } });
    const legacy = { host: 'db.internal', password: 'legacy-password-in-clear' };
    // What a row written before outputs were sealed looks like.
    await server.db.updateTable('services').set({ outputs: JSON.stringify(legacy), outputs_sealed: null, outputs_key_id: null }).where('id', '=', created.body.id).execute();
    expect((await server.expect(200, 'GET', `${base}/old`, { token: owner.token })).body.outputs).toEqual({ host: 'db.internal', password: 'leg********ear' });

    expect(await server.serviceOutputs.sealLegacy(server.db)).toBeGreaterThanOrEqual(1);
    expect(await rawRow(created.body.id)).not.toContain(legacy.password);
    expect(await storedOutputs(created.body.id)).toEqual(legacy);
    expect((await server.expect(200, 'GET', `${base}/old`, { token: owner.token })).body.outputs).toEqual({ host: 'db.internal', password: 'leg********ear' });
    expect(await server.serviceOutputs.sealLegacy(server.db)).toBe(0);
  });
});
