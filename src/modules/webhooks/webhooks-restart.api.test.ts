import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { callListening } from '../../../test/harness.js';
import { adminStatement, databaseUrl } from '../../../test/postgres.js';
import { buildDist, embeddedDirFromTemplate, startServerProcess, type ServerProcess } from '../../../test/processes.js';
import { startReceiver, until } from '../../../test/receiver.js';
import { verifySignature } from './signature.js';

/** The outbox is durable: the server killed (SIGKILL) with deliveries queued and in flight loses none of them. */
const postgres = process.env.COFFER_TEST_BACKEND === 'postgres';
const CHANGES = 20;
let scratch: string;
let env: Record<string, string>;
let database: string | undefined;
const servers: ServerProcess[] = [];
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  buildDist();
  receiver = await startReceiver();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-webhooks-'));
  if (postgres) {
    database = `${inject('postgresTemplate').replace(/_tpl$/, '')}_hooks_${randomBytes(4).toString('hex')}`;
    await adminStatement(`create database "${database}" template "${inject('postgresTemplate')}"`);
    env = { DATABASE_URL: databaseUrl(database), COFFER_ROOT_KEY: randomBytes(32).toString('base64') };
  } else {
    await embeddedDirFromTemplate(path.join(scratch, 'data'));
    env = { COFFER_DATA_DIR: path.join(scratch, 'data') };
  }
  env = { ...env, LOG_LEVEL: 'warn', COFFER_WEBHOOK_ALLOW_PRIVATE: 'true', COFFER_WEBHOOK_POLL_MS: '50', COFFER_WEBHOOK_RETRY_BASE_MS: '100', COFFER_WEBHOOK_TIMEOUT_MS: '1000' };
}, 180_000);

afterAll(async () => {
  for (const server of servers) server.child.kill('SIGKILL');
  await Promise.all(servers.map((server) => server.exited));
  await receiver?.close();
  if (database) await adminStatement(`drop database if exists "${database}" with (force)`);
  fs.rmSync(scratch, { recursive: true, force: true });
});

async function start(): Promise<ServerProcess> {
  const server = await startServerProcess(env, { readStdout: true });
  servers.push(server);
  return server;
}

describe(`webhook deliveries across a kill -9 (${postgres ? 'PostgreSQL' : 'embedded PGlite'})`, () => {
  it('delivers every change at least once after the server is killed mid-delivery and restarted', async () => {
    const first = await start();
    await callListening(first.url, 'POST', '/auth/signup', { email: 'hooks@example.test', password: 'correct horse battery staple', name: 'h' });
    const token = (await callListening(first.url, 'POST', '/auth/login', { email: 'hooks@example.test', password: 'correct horse battery staple' })).token as string;
    await callListening(first.url, 'POST', '/orgs', { slug: 'hooks' }, token);
    await callListening(first.url, 'POST', '/orgs/hooks/projects', { slug: 'shop' }, token);
    const hook = await callListening(first.url, 'POST', '/orgs/hooks/webhooks', { url: receiver.url, events: ['*'] }, token);
    // Slow answers: the kill lands with deliveries queued and one in flight.
    receiver.answerWith(() => ({ status: 200, delayMs: 300 }));
    for (let index = 0; index < CHANGES; index++) {
      await callListening(first.url, 'POST', '/orgs/hooks/projects/shop/variables', { key: `KEY_${index}`, value: 'fake' }, token);
    }
    await until('a first delivery', () => receiver.received.length > 0);
    first.child.kill('SIGKILL');
    await first.exited;
    const beforeRestart = new Set(receiver.received.map((entry) => JSON.parse(entry.body).change.key)).size;
    expect(beforeRestart).toBeLessThan(CHANGES);

    await start();
    receiver.answerWith(() => ({ status: 200 }));
    const keys = () => new Set(receiver.received.map((entry) => JSON.parse(entry.body).change.key as string));
    await until('every change after the restart', () => keys().size === CHANGES, 120_000);
    for (const entry of receiver.received) {
      expect(verifySignature(hook.secret as string, entry.body, String(entry.headers['x-coffer-signature']), Math.floor(Date.now() / 1000))).toBe(true);
    }
  }, 300_000);
});
