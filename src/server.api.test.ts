import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../test/harness.js';
import { loadConfig } from './config.js';
import { WrongRootKeyError } from './kernel/crypto/root-key.js';
import { DataDirLockedError } from './kernel/db/data-dir-lock.js';
import { runServer } from './server.js';

const postgres = process.env.COFFER_TEST_BACKEND === 'postgres';
const silent = pino({ level: 'silent' });
let dir: string;
let database: TestDatabase | undefined;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-server-'));
  if (postgres) database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function config(rootKey?: Buffer) {
  return loadConfig({
    PORT: '0',
    COFFER_DATA_DIR: path.join(dir, 'data'),
    COFFER_CHECKPOINT_DIR: path.join(dir, 'checkpoints'),
    ...(database?.url ? { DATABASE_URL: database.url } : {}),
    ...(rootKey ? { COFFER_ROOT_KEY: rootKey.toString('base64') } : {}),
  });
}

async function call(address: string, method: string, url: string, body?: unknown, token?: string) {
  const response = await fetch(`${address}/api/v1${url}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe(`the server process (${postgres ? 'PostgreSQL' : 'embedded PGlite'})`, () => {
  it('starts, serves, restarts on the same data, writes checkpoints, and refuses another root key', async () => {
    // The embedded database creates its own root key file; PostgreSQL needs one given.
    const rootKey = postgres ? randomBytes(32) : undefined;
    const first = await runServer(config(rootKey), silent);
    try {
      expect((await fetch(`${first.address}/readyz`)).status).toBe(200);
      await call(first.address, 'POST', '/auth/signup', { email: 'smoke@example.test', password: 'correct horse battery staple', name: 's' });
      const login = await call(first.address, 'POST', '/auth/login', { email: 'smoke@example.test', password: 'correct horse battery staple' });
      expect((await call(first.address, 'POST', '/orgs', { slug: 'smoke' }, login.body.token as string)).status).toBe(201);
      if (!postgres) {
        // A second server on the same data directory is refused while the first runs.
        await expect(runServer(config(), silent)).rejects.toBeInstanceOf(DataDirLockedError);
        expect(fs.statSync(path.join(dir, 'data', 'root.key')).mode & 0o777).toBe(0o600);
      }
    } finally {
      await first.close();
    }

    const second = await runServer(config(rootKey), silent);
    try {
      const login = await call(second.address, 'POST', '/auth/login', { email: 'smoke@example.test', password: 'correct horse battery staple' });
      expect((await call(second.address, 'GET', '/orgs/smoke', undefined, login.body.token as string)).status).toBe(200);
      // Housekeeping ran at start: the organization has a signed checkpoint outside the database.
      await expect.poll(() => fs.existsSync(path.join(dir, 'checkpoints', 'smoke')), { timeout: 5000 }).toBe(true);
    } finally {
      await second.close();
    }

    await expect(runServer(config(randomBytes(32)), silent)).rejects.toBeInstanceOf(WrongRootKeyError);
  }, 120_000);
});
