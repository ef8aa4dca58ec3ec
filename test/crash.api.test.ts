import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { callListening } from './harness.js';
import { adminStatement, databaseUrl } from './postgres.js';
import { buildDist, embeddedDirFromTemplate, startServerProcess, type ServerProcess } from './processes.js';

/**
 * Issue #18, crash tests: the real server process is killed with SIGKILL in the middle of
 * concurrent writes, restarted on the same data, and every write it acknowledged (2xx) is
 * there with its audit event, and the audit chain verifies.
 */
const postgres = process.env.COFFER_TEST_BACKEND === 'postgres';
const PASSWORD = 'correct horse battery staple';
const WRITES = 300;
const KILL_AFTER = 120;
const CONCURRENCY = 12;

let scratch: string;
let env: Record<string, string>;
let database: string | undefined;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  buildDist();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-crash-'));
  if (postgres) {
    database = `${inject('postgresTemplate').replace(/_tpl$/, '')}_crash_${randomBytes(4).toString('hex')}`;
    await adminStatement(`create database "${database}" template "${inject('postgresTemplate')}"`);
    env = { DATABASE_URL: databaseUrl(database), COFFER_ROOT_KEY: randomBytes(32).toString('base64') };
  } else {
    await embeddedDirFromTemplate(path.join(scratch, 'data'));
    env = { COFFER_DATA_DIR: path.join(scratch, 'data') };
  }
  env = { ...env, LOG_LEVEL: 'warn' };
}, 180_000);

afterAll(async () => {
  for (const server of servers) server.child.kill('SIGKILL');
  await Promise.all(servers.map((server) => server.exited));
  if (database) await adminStatement(`drop database if exists "${database}" with (force)`);
  fs.rmSync(scratch, { recursive: true, force: true });
});

async function start(): Promise<ServerProcess> {
  const server = await startServerProcess(env, { readStdout: true });
  servers.push(server);
  return server;
}

/** Every item of a paged listing (`items` + `next_cursor`). */
async function all<T>(address: string, url: string, token: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const separator = url.includes('?') ? '&' : '?';
    const page = (await callListening(address, 'GET', `${url}${separator}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, undefined, token)) as {
      items: T[];
      next_cursor: string | null;
    };
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

describe(`kill -9 during concurrent writes (${postgres ? 'PostgreSQL' : 'embedded PGlite'})`, () => {
  it('keeps every acknowledged write with its audit event, and the chain verifies after the restart', async () => {
    const first = await start();
    await callListening(first.url, 'POST', '/auth/signup', { email: 'crash@example.test', password: PASSWORD, name: 'c' });
    const token = (await callListening(first.url, 'POST', '/auth/login', { email: 'crash@example.test', password: PASSWORD })).token as string;
    const org = 'crash';
    await callListening(first.url, 'POST', '/orgs', { slug: org }, token);

    const acknowledged = new Map<string, string>(); // key → variable id
    let next = 0;
    let killed = false;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < WRITES) {
          const key = `CRASH_${next++}`;
          const type = next % 2 === 0 ? 'secret' : 'plain';
          try {
            const created = await callListening(first.url, 'POST', `/orgs/${org}/variables`, { key, type, value: `s3cr3t-value-for-tests-${key}` }, token);
            acknowledged.set(key, created.id as string);
          } catch {
            // Refused or cut off by the kill: not acknowledged, so either outcome is correct.
          }
          if (!killed && acknowledged.size >= KILL_AFTER) {
            killed = true;
            first.child.kill('SIGKILL');
          }
        }
      }),
    );
    expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER);

    const second = await start();
    const again = (await callListening(second.url, 'POST', '/auth/login', { email: 'crash@example.test', password: PASSWORD })).token as string;
    const variables = await all<{ id: string; key: string }>(second.url, `/orgs/${org}/variables`, again);
    const stored = new Map(variables.map((variable) => [variable.key, variable.id]));
    const events = await all<{ event_type: string; target_id: string | null }>(second.url, `/orgs/${org}/audit-events?target_type=variable`, again);
    const audited = new Set(events.filter((event) => event.event_type === 'CREATE').map((event) => event.target_id));
    const lost = [...acknowledged].filter(([key, id]) => stored.get(key) !== id).map(([key]) => key);
    const unaudited = [...acknowledged.values()].filter((id) => !audited.has(id));
    expect({ lost, unaudited }).toEqual({ lost: [], unaudited: [] });
    // Unacknowledged writes may have landed; whatever landed has its event too (same transaction).
    expect(variables.filter((variable) => !audited.has(variable.id)).map((variable) => variable.key)).toEqual([]);
    expect(await callListening(second.url, 'GET', `/orgs/${org}/audit-events/verify`, undefined, again)).toMatchObject({ ok: true });
  }, 180_000);
});
