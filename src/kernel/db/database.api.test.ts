import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../../test/harness.js';
import type { DatabaseHandle } from './connect.js';
import { migrateToLatest } from './migrate.js';

let database: DatabaseHandle;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.close());

const insertUser = (db: DatabaseHandle['db'], email: string) =>
  db.insertInto('users').values({ email, name: 'x', password_hash: 'h' }).returningAll().executeTakeFirstOrThrow();

describe(`database (${process.env.COFFER_TEST_BACKEND})`, () => {
  it('has applied every migration, and applying again changes nothing', async () => {
    expect(await migrateToLatest(database.db)).toEqual([]);
  });

  it('rolls a failed transaction back completely', async () => {
    await expect(
      database.db.transaction().execute(async (tx) => {
        await insertUser(tx, 'rollback@example.test');
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await database.db.selectFrom('users').where('email', '=', 'rollback@example.test').selectAll().execute()).toEqual([]);
  });

  it('keeps concurrent transactions apart: one rolling back never takes the other with it', async () => {
    const committed = database.db.transaction().execute(async (tx) => {
      await insertUser(tx, 'kept-1@example.test');
      await new Promise((resolve) => setTimeout(resolve, 20));
      await insertUser(tx, 'kept-2@example.test');
    });
    const aborted = database.db.transaction().execute(async (tx) => {
      await insertUser(tx, 'lost@example.test');
      throw new Error('abort');
    });
    const outside = insertUser(database.db, 'outside@example.test');
    await Promise.allSettled([committed, aborted, outside]);
    const emails = (await database.db.selectFrom('users').select('email').execute()).map((r) => r.email);
    expect(emails).toEqual(expect.arrayContaining(['kept-1@example.test', 'kept-2@example.test', 'outside@example.test']));
    expect(emails).not.toContain('lost@example.test');
  });

  it('returns bytea as Buffer, bigint counts as numbers and timestamps as UTC Dates', async () => {
    const row = await sql<{ bytes: Buffer; n: number; at: Date; zone: string }>`
      select '\\x00ff10'::bytea as bytes, count(*) as n, timestamptz '2026-01-02 03:04:05+02' as at,
             current_setting('TimeZone') as zone
      from users`.execute(database.db);
    const first = row.rows[0]!;
    expect(Buffer.isBuffer(first.bytes)).toBe(true);
    expect([...first.bytes]).toEqual([0, 255, 16]);
    expect(typeof first.n).toBe('number');
    expect(first.at.toISOString()).toBe('2026-01-02T01:04:05.000Z');
    expect(first.zone).toBe('UTC');
  });

  it('refuses a second OWNER in one organization at the database too', async () => {
    const org = await database.db.insertInto('organizations').values({ slug: 'owners', name: 'o' }).returningAll().executeTakeFirstOrThrow();
    const a = await insertUser(database.db, 'owner-a@example.test');
    const b = await insertUser(database.db, 'owner-b@example.test');
    await database.db.insertInto('memberships').values({ organization_id: org.id, user_id: a.id, role: 'OWNER' }).execute();
    await expect(
      database.db.insertInto('memberships').values({ organization_id: org.id, user_id: b.id, role: 'OWNER' }).execute(),
    ).rejects.toMatchObject({ code: '23505' });
  });
});
