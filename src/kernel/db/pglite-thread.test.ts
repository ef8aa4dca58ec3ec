import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createPGlite, PGLITE_START_PARAMS, usePGlite, type DatabaseHandle } from './connect.js';
import { isIntegrityViolation } from './errors.js';
import { startPGliteThread } from './pglite-thread.js';

/**
 * The server's embedded database runs on its own thread (issue #16): what crosses between the
 * threads must arrive as it would from PGlite in this one — values of every type Coffer
 * stores, PostgreSQL's errors with their fields, transactions, a dump of the data directory.
 */
describe('the embedded database on its own thread', () => {
  let dir: string;
  let database: DatabaseHandle;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-thread-'));
    const loader = await createPGlite({ dataDir: path.join(dir, 'pgdata'), loadDataDir: new Blob([fs.readFileSync(inject('pgliteTemplate'))]) });
    await loader.waitReady;
    await loader.close();
    database = await usePGlite(startPGliteThread().open({ dataDir: path.join(dir, 'pgdata'), startParams: PGLITE_START_PARAMS }));
    await sql`create table thread_values (id int primary key, t text not null, b bytea, j jsonb, ts timestamptz, n int8, flag boolean, constraint thread_values_t_short check (length(t) < 10))`.execute(database.db);
  });
  afterAll(async () => {
    await database?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sends parameters and answers rows of every type as PGlite in this thread does (bytea as Buffer, int8 as number)', async () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const at = new Date('2026-12-02T15:04:05.678Z');
    await sql`insert into thread_values values (${1}, ${"it's"}, ${bytes}, ${JSON.stringify({ a: [1, 'x'] })}, ${at}, ${2 ** 40}, ${true})`.execute(database.db);
    const { rows } = await sql<Record<string, unknown>>`select * from thread_values where id = ${1}`.execute(database.db);
    expect(rows).toEqual([{ id: 1, t: "it's", b: bytes, j: { a: [1, 'x'] }, ts: at, n: 2 ** 40, flag: true }]);
    expect(Buffer.isBuffer(rows[0]!.b)).toBe(true);
  });

  it('rejects with PostgreSQL error fields the repos read (code, constraint), and keeps serving after', async () => {
    const error = await sql`insert into thread_values (id, t) values (${2}, ${'much too long'})`.execute(database.db).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: '23514', constraint: 'thread_values_t_short' });
    expect(isIntegrityViolation(error)).toBe(true);
    const syntax = await sql`selec 1`.execute(database.db).catch((caught: unknown) => caught);
    expect(syntax).toMatchObject({ code: '42601' });
    expect((await sql<{ one: number }>`select 1 as one`.execute(database.db)).rows).toEqual([{ one: 1 }]);
  });

  it('leaves this thread free while a statement runs: what is scheduled after it runs before its answer', async () => {
    const order: string[] = [];
    const statement = sql`select pg_sleep(0.2)`.execute(database.db).then(() => order.push('statement'));
    setImmediate(() => order.push('this thread'));
    await statement;
    expect(order).toEqual(['this thread', 'statement']);
  });

  it('rolls a failed transaction back whole', async () => {
    const failed = database.db.transaction().execute(async (tx) => {
      await sql`insert into thread_values (id, t) values (${3}, ${'kept?'})`.execute(tx);
      await sql`insert into thread_values (id, t) values (${3}, ${'duplicate'})`.execute(tx);
    });
    await expect(failed).rejects.toMatchObject({ code: '23505' });
    expect((await sql`select 1 from thread_values where id = ${3}`.execute(database.db)).rows).toEqual([]);
  });

  it('dumps the data directory as a gzipped tar that PGlite loads again', async () => {
    const dump = await database.dump!();
    const bytes = Buffer.from(await dump.arrayBuffer());
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const copy = await usePGlite(await createPGlite({ loadDataDir: new Blob([bytes]) }));
    try {
      expect((await sql<{ t: string }>`select t from thread_values where id = ${1}`.execute(copy.db)).rows).toEqual([{ t: "it's" }]);
    } finally {
      await copy.close();
    }
  });

  it('fails an open of a directory PostgreSQL cannot start in, and its thread ends', async () => {
    const broken = path.join(dir, 'broken');
    fs.mkdirSync(path.join(broken, 'global'), { recursive: true });
    fs.writeFileSync(path.join(broken, 'PG_VERSION'), '18\n');
    fs.writeFileSync(path.join(broken, 'global', 'pg_control'), Buffer.alloc(8192, 7));
    const pglite = startPGliteThread().open({ dataDir: broken, startParams: PGLITE_START_PARAMS });
    await expect(pglite.waitReady).rejects.toThrow();
    await pglite.close();
    await expect(pglite.query('select 1')).rejects.toThrow(/thread ended|stopped/);
  });
});
