import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openTestDatabase, type TestDatabase } from '../../../test/harness.js';
import { openPostgres } from '../../kernel/db/connect.js';
import type { AuditContext } from '../../kernel/http/audit-context.js';
import { GENESIS_HASH, chainHash } from './chain.js';
import { createReadAuditBatcher } from './read-batcher.js';
import { appendIfHeadIs, recordAudit } from './recorder.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.close());

const context = (organizationId: string, name: string): AuditContext => ({
  organizationId,
  actor: { type: 'user', id: null, name },
  tool: 'CLI',
  ip: null,
  requestId: name,
});

async function newOrganization(slug: string) {
  return (await database.db.insertInto('organizations').values({ slug, name: slug }).returning('id').executeTakeFirstOrThrow()).id;
}

describe('read audit batcher', () => {
  it('commits concurrent read events together and releases each read only once its event is durable', async () => {
    const a = await newOrganization('batch-a');
    const b = await newOrganization('batch-b');
    const batcher = createReadAuditBatcher(database.db, { windowMs: 20 });
    const reads = Array.from({ length: 30 }, (_, i) =>
      batcher
        .record(context(i % 2 ? a : b, `reader-${i}`), { event_type: 'READ_SECRET', target_type: 'environment', change: `Read secrets ${i}` })
        .then(async () => {
          // Once released, the event is there for anyone to read.
          const row = await database.db.selectFrom('audit_events').select('id').where('change', '=', `Read secrets ${i}`).executeTakeFirst();
          return row !== undefined;
        }),
    );
    expect(await Promise.all(reads)).toEqual(Array(30).fill(true));
    expect(batcher.flushes).toBe(1);
    for (const organization of [a, b]) {
      const seqs = (await database.db.selectFrom('audit_events').select('seq').where('organization_id', '=', organization).orderBy('seq').execute()).map((r) => r.seq);
      expect(seqs).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    }
  });

  it('fails every read of a batch whose events could not be recorded', async () => {
    const batcher = createReadAuditBatcher(database.db, { windowMs: 5 });
    const event = { event_type: 'READ_SECRET', target_type: 'environment', change: 'x' };
    // Not a UUID: the insert fails, so no read may be answered.
    const results = await Promise.allSettled([batcher.record(context('not-a-uuid', 'r1'), event), batcher.record(context('not-a-uuid', 'r2'), event)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('appends the next batch in one statement from the remembered head, and falls back to locking when another writer moved it', async () => {
    const organization = await newOrganization('batch-head');
    const batcher = createReadAuditBatcher(database.db, { windowMs: 1 });
    const read = (i: number) => batcher.record(context(organization, `r${i}`), { event_type: 'READ_SECRET', target_type: 'environment', change: `read ${i}` });
    await read(1);
    await read(2); // from the remembered head
    // A change's own event moves the head behind the batcher's back.
    await database.db.transaction().execute((tx) => recordAudit(tx, context(organization, 'writer'), [{ event_type: 'UPDATE', target_type: 'variable', change: 'changed' }]));
    await Promise.all([read(3), read(4)]);
    await read(5);
    const rows = await database.db.selectFrom('audit_events').selectAll().where('organization_id', '=', organization).orderBy('seq').execute();
    expect(rows.map((r) => [r.seq, r.change])).toEqual([
      [1, 'read 1'], [2, 'read 2'], [3, 'changed'], [4, 'read 3'], [5, 'read 4'], [6, 'read 5'],
    ]);
    // Every link holds: each event's prev_hash is the hash before it, and the head is the last one.
    for (const [index, row] of rows.entries()) {
      expect(Buffer.from(row.prev_hash).equals(index === 0 ? GENESIS_HASH : Buffer.from(rows[index - 1]!.hash))).toBe(true);
      const { id: _id, hash, prev_hash, ...event } = row;
      expect(chainHash({ ...event, details: row.details }, Buffer.from(prev_hash)).equals(Buffer.from(hash))).toBe(true);
    }
    const head = await database.db.selectFrom('audit_chains').selectAll().where('organization_id', '=', organization).executeTakeFirstOrThrow();
    expect([head.last_seq, Buffer.from(head.last_hash).equals(Buffer.from(rows.at(-1)!.hash))]).toEqual([6, true]);
  });

  it('chains batches sent while earlier ones commit from where those will end, without the lock', async () => {
    const organization = await newOrganization('batch-ahead');
    const batcher = createReadAuditBatcher(database.db, { windowMs: 1, maxBatch: 5, maxInFlight: 4 });
    const read = (i: number) => batcher.record(context(organization, `a${i}`), { event_type: 'READ_SECRET', target_type: 'environment', change: `read ${i}` });
    await read(0); // the first append locks: nothing is remembered yet
    await Promise.all(Array.from({ length: 20 }, (_, i) => read(i + 1)));
    expect([batcher.flushes, batcher.locked]).toEqual([5, 1]);
    const rows = await database.db.selectFrom('audit_events').select(['seq', 'change']).where('organization_id', '=', organization).orderBy('seq').execute();
    expect(rows.map((r) => [r.seq, r.change])).toEqual(Array.from({ length: 21 }, (_, i) => [i + 1, `read ${i}`]));
  });

  it('keeps the chain whole with several batches in flight, a failed one failing only its own reads', async () => {
    const organization = await newOrganization('batch-pipeline');
    // Batches of 5 sent at once, four in flight: the second is chained from where the first
    // will end before the first commits, and so on.
    const batcher = createReadAuditBatcher(database.db, { windowMs: 1, maxBatch: 5, maxInFlight: 4 });
    const read = (i: number) =>
      batcher.record(context(organization, `p${i}`), {
        event_type: 'READ_SECRET',
        target_type: 'environment',
        change: `read ${i}`,
        // The second batch cannot be stored (JSON text may not hold NUL): its reads must fail.
        details: i === 7 ? { note: 'bad \u0000 text' } : { i },
      });
    await batcher.record(context(organization, 'warm'), { event_type: 'READ_SECRET', target_type: 'environment', change: 'warm' });
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => read(i)));
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 30 }, (_, i) => (i >= 5 && i < 10 ? 'rejected' : 'fulfilled')));
    expect(batcher.flushes).toBe(7);
    const rows = await database.db.selectFrom('audit_events').selectAll().where('organization_id', '=', organization).orderBy('seq').execute();
    expect(rows.map((r) => [r.seq, r.change])).toEqual([
      [1, 'warm'],
      ...Array.from({ length: 30 }, (_, i) => i)
        .filter((i) => i < 5 || i >= 10)
        .map((i, index) => [index + 2, `read ${i}`]),
    ]);
    for (const [index, row] of rows.entries()) {
      expect(Buffer.from(row.prev_hash).equals(index === 0 ? GENESIS_HASH : Buffer.from(rows[index - 1]!.hash))).toBe(true);
      const { id: _id, hash, prev_hash, ...event } = row;
      expect(chainHash({ ...event, details: row.details }, Buffer.from(prev_hash)).equals(Buffer.from(hash))).toBe(true);
    }
    const head = await database.db.selectFrom('audit_chains').selectAll().where('organization_id', '=', organization).executeTakeFirstOrThrow();
    expect([head.last_seq, Buffer.from(head.last_hash).equals(Buffer.from(rows.at(-1)!.hash))]).toEqual([26, true]);
    // And the batcher's own idea of the head is right again: the next read appends after it.
    await read(30);
    const last = await database.db.selectFrom('audit_events').select(['seq', 'change']).where('organization_id', '=', organization).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    expect([last.seq, last.change]).toEqual([27, 'read 30']);
  });

  it('inserts nothing from a stale head', async () => {
    const organization = await newOrganization('stale-head');
    const [first] = await database.db.transaction().execute((tx) => recordAudit(tx, context(organization, 'w'), [{ event_type: 'NOTE', target_type: 'note', change: 'one' }]));
    await database.db.transaction().execute((tx) => recordAudit(tx, context(organization, 'w'), [{ event_type: 'NOTE', target_type: 'note', change: 'two' }]));
    const stale = { seq: first!.seq, hash: first!.hash };
    expect(await appendIfHeadIs(database.db, organization, [{ context: context(organization, 'r'), event: { event_type: 'READ_SECRET', target_type: 'environment', change: 'late' } }], stale)).toBeNull();
    const changes = await database.db.selectFrom('audit_events').select('change').where('organization_id', '=', organization).orderBy('seq').execute();
    expect(changes.map((r) => r.change)).toEqual(['one', 'two']);
  });

  it('commits one batch at a time: reads that arrive while it commits wait, then go together', async () => {
    const organization = await newOrganization('batch-one-at-a-time');
    const batcher = createReadAuditBatcher(database.db);
    const read = (i: number) => batcher.record(context(organization, `r${i}`), { event_type: 'READ_SECRET', target_type: 'environment', change: `read ${i}` });
    await read(0); // the chain's head row exists from here
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    // Another writer holds the head row (on PGlite, its one connection): the next batch cannot commit.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const holding = database.db.transaction().execute(async (tx) => {
      await tx.selectFrom('audit_chains').select('last_seq').where('organization_id', '=', organization).forUpdate().execute();
      await released;
    });
    await pause(20);
    const before = batcher.flushes;
    const reads = [read(1)];
    for (let i = 2; i <= 5; i++) {
      await pause(10);
      reads.push(read(i));
    }
    release();
    await holding;
    await Promise.all(reads);
    // Read 1's batch, then one more with reads 2–5 (with batches in flight at once, each read would be one).
    expect(batcher.flushes - before).toBe(2);
    const changes = await database.db.selectFrom('audit_events').select('change').where('organization_id', '=', organization).orderBy('seq').execute();
    expect(changes.map((r) => r.change)).toEqual(['read 0', 'read 1', 'read 2', 'read 3', 'read 4', 'read 5']);
  });

  it.runIf(process.env.COFFER_TEST_BACKEND === 'postgres')('has PostgreSQL plan its batch insert once per connection, not per batch', async () => {
    const organization = await newOrganization('batch-prepared');
    // One connection, so that pg_prepared_statements (per session) shows what the batches used.
    const single = openPostgres(database.url!, { max: 1 });
    try {
      const batcher = createReadAuditBatcher(single.db);
      for (let i = 0; i < 3; i++) {
        await batcher.record(context(organization, `p${i}`), { event_type: 'READ_SECRET', target_type: 'environment', change: `prepared ${i}` });
      }
      const prepared = await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(single.db);
      expect(prepared.rows).toHaveLength(1);
      expect(prepared.rows[0]!.name).toMatch(/^coffer_[0-9a-f]{24}$/);
      expect(prepared.rows[0]!.statement).toContain('insert into audit_events');
      // Behind a pooler that moves statements between server connections a name is lost: the
      // read must still be recorded (sent unnamed from then on), not fail.
      await sql`deallocate all`.execute(single.db);
      await batcher.record(context(organization, 'p3'), { event_type: 'READ_SECRET', target_type: 'environment', change: 'prepared 3' });
      const count = await single.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).where('organization_id', '=', organization).executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(4);
    } finally {
      await single.close();
    }
  });
});
