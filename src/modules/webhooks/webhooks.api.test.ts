import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring } from '../../kernel/crypto/keyring.js';
import { LocalKeyProvider } from '../../kernel/crypto/key-provider.js';
import { expectInvalidField, useTestServer, type TestServer } from '../../../test/harness.js';
import { startReceiver, until } from '../../../test/receiver.js';
import { verifySignature } from './signature.js';
import { startDeliveryWorker, type DeliveryOptions } from './worker.js';

const OPTIONS: DeliveryOptions = { allowPrivate: true, pollMs: 20, retryBaseMs: 20, maxAttempts: 3, disableAfter: 4, timeoutMs: 2000 };
const server = useTestServer({ webhooks: OPTIONS });
const ENV = '/projects/shop/environments/production';
const SECRET_VALUE = 'fake-secret-value-for-tests-0123456789';

let receiver: Awaited<ReturnType<typeof startReceiver>>;
const workers: { stop(): Promise<void> }[] = [];
const startWorker = (on: TestServer) =>
  workers.push(startDeliveryWorker({ db: on.db, keyring: createKeyring({ db: on.db, provider: new LocalKeyProvider(on.rootKey) }), options: OPTIONS }));

beforeAll(async () => {
  receiver = await startReceiver();
  startWorker(server);
});
afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await receiver.close();
});

/** An organization with a webhook to the receiver; deliveries to it are told apart by X-Coffer-Signature's secret. */
async function hooked(body: Record<string, unknown> = {}) {
  const tree = await server.tree();
  const hook = await server.expect(201, 'POST', `/orgs/${tree.org}/webhooks`, { token: tree.owner.token, payload: { url: receiver.url, events: ['variable.changed'], ...body } });
  const mine = () => receiver.received.filter((entry) => verifySignature(hook.body.secret, entry.body, String(entry.headers['x-coffer-signature']), Math.floor(Date.now() / 1000)));
  return { ...tree, hook: hook.body, mine, bodies: () => mine().map((entry) => JSON.parse(entry.body)) };
}

describe('webhooks', () => {
  it('shows the signing secret once, never again, and never in the audit log', async () => {
    const { org, owner, hook } = await hooked();
    expect(hook.secret).toMatch(/^whsec_/);
    const got = await server.expect(200, 'GET', `/orgs/${org}/webhooks/${hook.id}`, { token: owner.token });
    expect(got.body).not.toHaveProperty('secret');
    expect(got.body).toMatchObject({ url: receiver.url, events: ['variable.changed'], enabled: true, path: null });
    const listed = await server.expect(200, 'GET', `/orgs/${org}/webhooks`, { token: owner.token });
    expect(JSON.stringify(listed.body)).not.toContain(hook.secret);
    const audit = await server.expect(200, 'GET', `/orgs/${org}/audit-events?target_type=webhook`, { token: owner.token });
    expect(audit.body.items.length).toBeGreaterThan(0);
    expect(JSON.stringify(audit.body)).not.toContain(hook.secret);
  });

  it('refuses URLs that are not http(s), unknown events and missing paths with a 400 naming the field', async () => {
    const { org, owner } = await server.tree();
    const post = (payload: Record<string, unknown>) => server.request('POST', `/orgs/${org}/webhooks`, { token: owner.token, payload: { url: receiver.url, events: ['*'], ...payload } });
    expectInvalidField(await post({ url: 'ftp://example.test/hook' }), 'body.url');
    expectInvalidField(await post({ url: 'file:///etc/passwd' }), 'body.url');
    expectInvalidField(await post({ events: ['secret.leaked'] }), 'body.events.0');
    expectInvalidField(await post({ path: 'nowhere' }), 'body.path');
  });

  it('needs organization:setup, and is invisible to other organizations', async () => {
    const { org, owner, hook } = await hooked();
    const viewer = await server.member(owner.token, org, 'VIEWER');
    expect((await server.request('GET', `/orgs/${org}/webhooks`, { token: viewer.token })).status).toBe(403);
    const stranger = await server.org();
    expect((await server.request('GET', `/orgs/${stranger.org}/webhooks/${hook.id}`, { token: stranger.owner.token })).status).toBe(404);
  });

  it('delivers every change (create, update, rollback, delete) signed, with keys and versions and never the value', async () => {
    const { org, owner, hook, bodies, mine } = await hooked();
    const created = await server.expect(201, 'POST', `/orgs/${org}${ENV}/variables`, { token: owner.token, payload: { key: 'API_KEY', type: 'secret', value: SECRET_VALUE } });
    const url = `/orgs/${org}${ENV}/variables/${created.body.id}`;
    await server.expect(200, 'PATCH', url, { token: owner.token, payload: { value: `${SECRET_VALUE}-2` } });
    await server.expect(200, 'POST', `${url}/rollback`, { token: owner.token, payload: { version: 1 } });
    await server.expect(204, 'DELETE', url, { token: owner.token });
    await until('four deliveries logged', async () => {
      const log = await server.expect(200, 'GET', `/orgs/${org}/webhooks/${hook.id}/deliveries`, { token: owner.token });
      return log.body.items.filter((item: { status: string }) => item.status === 'succeeded').length === 4;
    });
    const changes = bodies().map((body) => body.change);
    expect(changes.map((change) => [change.key, change.version, change.operation])).toEqual([
      ['API_KEY', 1, 'CREATE'],
      ['API_KEY', 2, 'UPDATE'],
      ['API_KEY', 3, 'ROLLBACK'],
      ['API_KEY', 4, 'DELETE'],
    ]);
    expect(bodies()[0]).toMatchObject({ event: 'variable.changed', organization: org, path: 'shop/production' });
    for (const entry of mine()) {
      expect(entry.body).not.toContain(SECRET_VALUE);
      expect(entry.headers['x-coffer-event']).toBe('variable.changed');
    }
    const log = await server.expect(200, 'GET', `/orgs/${org}/webhooks/${hook.id}/deliveries`, { token: owner.token });
    expect(log.body.items).toHaveLength(4);
    expect(log.body.items[0]).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: 200, latency_ms: expect.any(Number) });
  });

  it('delivers one change per variable a batch creates or updates (an import), none for what it left alone', async () => {
    const { org, owner, hook, bodies } = await hooked();
    await server.expect(201, 'POST', `/orgs/${org}${ENV}/variables`, { token: owner.token, payload: { key: 'SAME', value: 'same' } });
    await server.expect(201, 'POST', `/orgs/${org}${ENV}/variables`, { token: owner.token, payload: { key: 'CHANGED', value: 'old' } });
    const variables = [
      { key: 'SAME', value: 'same' },
      { key: 'CHANGED', value: 'new' },
      { key: 'NEW_ONE', value: 'fake-new', type: 'secret' },
    ];
    await server.expect(200, 'POST', `/orgs/${org}${ENV}/variables/batch`, { token: owner.token, payload: { variables } });
    await until('four deliveries logged', async () => {
      const log = await server.expect(200, 'GET', `/orgs/${org}/webhooks/${hook.id}/deliveries`, { token: owner.token });
      return log.body.items.filter((item: { status: string }) => item.status === 'succeeded').length === 4;
    });
    const changes = bodies().map((body) => [body.change.key, body.change.version, body.change.operation]);
    expect(changes.sort()).toEqual([
      ['CHANGED', 1, 'CREATE'],
      ['CHANGED', 2, 'UPDATE'],
      ['NEW_ONE', 1, 'CREATE'],
      ['SAME', 1, 'CREATE'],
    ]);
    expect(bodies().every((body) => body.path === 'shop/production')).toBe(true);
  });

  it('writes a change record for member-assigned and organization variables, and none for a refused write', async () => {
    const { org, owner } = await server.tree();
    const member = await server.member(owner.token, org, 'DEVELOPER');
    await server.expect(201, 'POST', `/orgs/${org}/projects/shop/variables`, { token: owner.token, payload: { key: 'MINE', value: 'a', assignee_user_id: member.id } });
    await server.expect(201, 'POST', `/orgs/${org}/variables`, { token: owner.token, payload: { key: 'ORG_WIDE', value: 'b' } });
    expect((await server.request('POST', `/orgs/${org}/variables`, { token: owner.token, payload: { key: 'ORG_WIDE', value: 'c' } })).status).toBe(409);
    const orgRow = await server.db.selectFrom('organizations').select('id').where('slug', '=', org).executeTakeFirstOrThrow();
    const rows = await server.db.selectFrom('changes').selectAll().where('organization_id', '=', orgRow.id).orderBy('id').execute();
    expect(rows.map((row) => [row.key, row.scope, row.assignee_user_id, row.version])).toEqual([
      ['MINE', 'project', member.id, 1],
      ['ORG_WIDE', 'organization', null, 1],
    ]);
  });

  it('a webhook limited to an environment hears changes there and above it, not beside it', async () => {
    const { org, owner, bodies, mine } = await hooked({ path: 'shop/production' });
    await server.expect(201, 'POST', `/orgs/${org}/projects/shop/environments`, { token: owner.token, payload: { slug: 'staging', type: 'STAGING' } });
    await server.expect(201, 'POST', `/orgs/${org}/projects/shop/environments/staging/variables`, { token: owner.token, payload: { key: 'BESIDE', value: 'x' } });
    await server.expect(201, 'POST', `/orgs/${org}/variables`, { token: owner.token, payload: { key: 'ABOVE', value: 'x' } });
    await server.expect(201, 'POST', `/orgs/${org}${ENV}/services/backend/variables`, { token: owner.token, payload: { key: 'INSIDE', value: 'x' } });
    await until('two deliveries', () => mine().length >= 2);
    // The last change (INSIDE) arrived, so BESIDE, written before it, was never queued.
    expect(bodies().map((body) => body.change.key).sort()).toEqual(['ABOVE', 'INSIDE']);
  });

  it('retries with backoff until the receiver answers 2xx, and logs the attempts', async () => {
    const { org, owner, hook, mine } = await hooked();
    const failing = new Set<string>();
    receiver.answerWith((entry) => {
      const delivery = String(entry.headers['x-coffer-delivery']);
      if (entry.headers['x-coffer-attempt'] === '1') failing.add(delivery);
      return { status: failing.has(delivery) && entry.headers['x-coffer-attempt'] !== '3' ? 503 : 200 };
    });
    try {
      await server.expect(201, 'POST', `/orgs/${org}${ENV}/variables`, { token: owner.token, payload: { key: 'RETRIED', value: 'x' } });
      await until('the third attempt', () => mine().some((entry) => entry.headers['x-coffer-attempt'] === '3'));
      await until('the log to say succeeded', async () => {
        const log = await server.expect(200, 'GET', `/orgs/${org}/webhooks/${hook.id}/deliveries`, { token: owner.token });
        return log.body.items[0]?.status === 'succeeded';
      });
      const log = await server.expect(200, 'GET', `/orgs/${org}/webhooks/${hook.id}/deliveries`, { token: owner.token });
      expect(log.body.items[0]).toMatchObject({ attempts: 3, last_status_code: 200, last_error: null });
    } finally {
      receiver.answerWith(() => ({ status: 200 }));
    }
  });

  it('disables a webhook after repeated failures, in the audit log, and redelivers once re-enabled', async () => {
    const { org, owner, hook, mine } = await hooked();
    receiver.answerWith((entry) => ({ status: mine().includes(entry) ? 500 : 200 }));
    try {
      await server.expect(201, 'POST', `/orgs/${org}${ENV}/variables`, { token: owner.token, payload: { key: 'ONE', value: 'x' } });
      await server.expect(201, 'POST', `/orgs/${org}${ENV}/variables`, { token: owner.token, payload: { key: 'TWO', value: 'x' } });
      await until('the webhook to be disabled', async () => (await server.expect(200, 'GET', `/orgs/${org}/webhooks/${hook.id}`, { token: owner.token })).body.enabled === false);
    } finally {
      receiver.answerWith(() => ({ status: 200 }));
    }
    const disabled = await server.expect(200, 'GET', `/orgs/${org}/webhooks/${hook.id}`, { token: owner.token });
    expect(disabled.body).toMatchObject({ enabled: false, consecutive_failures: OPTIONS.disableAfter, disabled_reason: expect.stringContaining('failed deliveries') });
    const audit = await server.expect(200, 'GET', `/orgs/${org}/audit-events?target_type=webhook`, { token: owner.token });
    expect(audit.body.items.some((event: { change: string; actor: unknown }) => /^Disabled webhook/.test(event.change))).toBe(true);

    const log = await server.expect(200, 'GET', `/orgs/${org}/webhooks/${hook.id}/deliveries`, { token: owner.token });
    // Disabled mid-way: what was not sent waits (pending), nothing is lost.
    const failed = log.body.items.at(-1);
    expect(failed.last_status_code).toBe(500);
    const refused = await server.request('POST', `/orgs/${org}/webhooks/${hook.id}/deliveries/${failed.id}/redeliver`, { token: owner.token });
    expect(refused.status).toBe(409);
    await server.expect(200, 'PATCH', `/orgs/${org}/webhooks/${hook.id}`, { token: owner.token, payload: { enabled: true } });
    const before = mine().length;
    const again = await server.expect(202, 'POST', `/orgs/${org}/webhooks/${hook.id}/deliveries/${failed.id}/redeliver`, { token: owner.token });
    expect(again.body).toMatchObject({ redelivery_of: failed.id, status: 'pending', payload: failed.payload });
    await until('the redelivery', () => mine().some((entry) => entry.headers['x-coffer-delivery'] === again.body.id && entry.body === failed.payload));
    expect(mine().length).toBeGreaterThan(before);
  });
});

describe('deployment events', () => {
  it('sends a platform\'s TRIGGER_DEPLOYMENT to webhooks of the whole organization that ask for deployment.*', async () => {
    const { org, owner, bodies } = await hooked({ events: ['deployment.*'] });
    const limited = await server.expect(201, 'POST', `/orgs/${org}/webhooks`, { token: owner.token, payload: { url: receiver.url, events: ['*'], path: 'shop' } });
    const payload = { event_type: 'TRIGGER_DEPLOYMENT', target_type: 'service', target_name: 'shop/production/backend', change: 'Deployed backend v42' };
    await server.expect(201, 'POST', `/orgs/${org}/audit-events`, { token: owner.token, payload });
    await server.expect(201, 'POST', `/orgs/${org}${ENV}/variables`, { token: owner.token, payload: { key: 'NOT_A_DEPLOYMENT', value: 'x' } });
    await until('the deployment', () => bodies().length > 0);
    expect(bodies()[0]).toMatchObject({ event: 'deployment.triggered', organization: org, deployment: { target_name: 'shop/production/backend', change: 'Deployed backend v42' } });
    // The variable change was written after the deployment; once the limited webhook has it, it has had its chance at the deployment.
    await until('the limited webhook\'s variable change', async () => {
      const log = await server.expect(200, 'GET', `/orgs/${org}/webhooks/${limited.body.id}/deliveries`, { token: owner.token });
      return log.body.items.length > 0;
    });
    const log = await server.expect(200, 'GET', `/orgs/${org}/webhooks/${limited.body.id}/deliveries`, { token: owner.token });
    expect(log.body.items.map((item: { event: string }) => item.event)).toEqual(['variable.changed']);
    expect(bodies().map((body) => body.event)).toEqual(['deployment.triggered']);
  });
});

describe.runIf(process.env.COFFER_TEST_BACKEND === 'postgres')('webhooks on two instances', () => {
  it('never sends the same attempt twice, and delivers every change', async () => {
    const sibling = await server.sibling({ webhooks: OPTIONS });
    startWorker(sibling);
    const { org, owner, mine } = await hooked();
    const keys = Array.from({ length: 40 }, (_, index) => `K_${index}`);
    // Slow answers keep both workers busy at once.
    receiver.answerWith(() => ({ status: 200, delayMs: 20 }));
    try {
      for (const key of keys) await server.expect(201, 'POST', `/orgs/${org}${ENV}/variables`, { token: owner.token, payload: { key, value: 'x' } });
      await until('every change', () => new Set(mine().map((entry) => JSON.parse(entry.body).change.key)).size === keys.length);
      const attempts = mine().map((entry) => `${entry.headers['x-coffer-delivery']}#${entry.headers['x-coffer-attempt']}`);
      expect(new Set(attempts).size).toBe(attempts.length);
      expect(attempts).toHaveLength(keys.length);
    } finally {
      receiver.answerWith(() => ({ status: 200 }));
      await sibling.close();
    }
  });
});
