import fs from 'node:fs';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createPGlite, usePGlite, type DatabaseHandle } from './connect.js';
import { sqlLiterals } from './pglite-dialect.js';
import { prepareOnce, preparedName } from './prepared.js';

/**
 * Issue #16: on PGlite a registered statement is PREPAREd once and EXECUTEd with its
 * parameters written as SQL literals — which must mean exactly the values, whatever they hold.
 */
let database: DatabaseHandle;
beforeAll(async () => {
  database = await usePGlite(await createPGlite({ loadDataDir: new Blob([fs.readFileSync(inject('pgliteTemplate'))]) }));
}, 60_000);
afterAll(() => database.close());

describe('PGlite prepared statements', () => {
  it('writes any text as a literal that reads back as the same text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary' }).filter((text) => !text.includes('\0')), async (text) => {
        const [literal] = sqlLiterals([text])!;
        const result = await sql<{ value: string }>`select ${sql.raw(literal!)}::text as value`.execute(database.db);
        expect(result.rows[0]!.value).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('writes bytes, numbers, dates and null as literals of the same values', async () => {
    const bytes = Buffer.from([0, 1, 0x5c, 0x27, 0xff]);
    const when = new Date('2026-12-02T08:00:00.123Z');
    const literals = sqlLiterals([bytes, -42, 2 ** 40, when, null, true])!;
    const result = await sql<{ b: Buffer; n: number; big: number; at: Date; nothing: null; yes: boolean }>`
      select ${sql.raw(literals[0]!)}::bytea as b, ${sql.raw(literals[1]!)}::int as n, ${sql.raw(literals[2]!)}::bigint as big,
             ${sql.raw(literals[3]!)}::timestamptz as at, ${sql.raw(literals[4]!)}::text as nothing, ${sql.raw(literals[5]!)}::boolean as yes`.execute(database.db);
    const row = result.rows[0]!;
    expect(Buffer.from(row.b).equals(bytes)).toBe(true);
    expect([row.n, row.big, row.at.toISOString(), row.nothing, row.yes]).toEqual([-42, 2 ** 40, when.toISOString(), null, true]);
    // What has no literal form here goes as a bound parameter instead.
    expect(sqlLiterals([{ a: 1 }])).toBeUndefined();
    expect(sqlLiterals(['with\0nul'])).toBeUndefined();
  });

  it('prepares a registered statement once and executes it with its parameters', async () => {
    await sql`create table prepared_probe (id int primary key, note text)`.execute(database.db);
    const insert = (id: number, note: string) => sql`insert into prepared_probe (id, note) values (${id}, ${note})`.compile(database.db);
    prepareOnce(insert(0, '').sql);
    for (const [id, note] of [[1, "it's"], [2, 'back\\slash']] as const) {
      const result = await database.db.executeQuery(insert(id, note));
      expect(result.numAffectedRows).toBe(1n);
    }
    const rows = await database.db.selectFrom('prepared_probe' as never).selectAll().orderBy('id' as never).execute();
    expect(rows).toEqual([{ id: 1, note: "it's" }, { id: 2, note: 'back\\slash' }]);
    const prepared = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(database.db);
    expect(prepared.rows.map((row) => row.name)).toEqual([preparedName(insert(0, '').sql)]);
    // Deallocated behind the dialect's back: prepared again on the next execution.
    await sql`deallocate all`.execute(database.db);
    expect((await database.db.executeQuery(insert(3, 'again'))).numAffectedRows).toBe(1n);
  });
});
