import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/harness.js';
import type { AuditContext } from './context.js';
import { createReadAuditBatcher } from './read-batcher.js';

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
});
