import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/harness.js';
import { adminUrl } from '../../../test/postgres.js';
import { loadConfig } from '../../config.js';
import { runServer } from '../../server.js';
import { migrateToLatest } from './migrate.js';

const postgres = process.env.COFFER_TEST_BACKEND === 'postgres';
let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.close());

const tables = async () =>
  (
    await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public' order by 1`.execute(database.db)
  ).rows.map((row) => row.name);

describe(`migrations (${process.env.COFFER_TEST_BACKEND})`, () => {
  it('leave no table behind when they fail on a database that is not Coffer’s, and name where', async () => {
    // Another application's database: its own `users` table, nothing of Coffer's.
    await sql.raw('drop schema public cascade; create schema public; create table users (id int primary key, nickname text)').execute(database.db);
    const error = await migrateToLatest(database.db, 'the place under test').catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/^Migration 0001_foundation failed on the place under test: .*users.*; nothing was applied$/);
    expect(await tables()).toEqual(['users']);
    // Nothing half-done either: the next attempt fails the same way rather than on leftovers.
    await expect(migrateToLatest(database.db)).rejects.toThrow(/^Migration 0001_foundation failed/);
  });

  it('apply every migration in one go on an empty database, then nothing more', async () => {
    await sql.raw('drop schema public cascade; create schema public').execute(database.db);
    expect((await migrateToLatest(database.db)).length).toBeGreaterThan(0);
    expect(await tables()).toContain('kysely_migration');
    expect(await migrateToLatest(database.db)).toEqual([]);
  });

  it.runIf(postgres)('name DATABASE_URL’s host and database when the server cannot migrate, never its password', async () => {
    const url = new URL(adminUrl());
    url.username = 'postgres';
    url.password = 'pa55word-for-tests';
    url.pathname = `/coffer_missing_${randomBytes(4).toString('hex')}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-migrate-'));
    try {
      const config = loadConfig({ PORT: '0', DATABASE_URL: url.toString(), COFFER_ROOT_KEY: randomBytes(32).toString('base64'), COFFER_DATA_DIR: dir });
      const error = (await runServer(config, pino({ level: 'silent' })).catch((caught: unknown) => caught)) as Error;
      expect(error.message).toContain(`on PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`);
      expect(error.message).not.toContain('pa55word-for-tests');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
