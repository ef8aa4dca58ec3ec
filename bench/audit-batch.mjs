#!/usr/bin/env node
// What one group-committed batch of read events (READ_SECRET) costs the server's process, by
// batch size: the fixed part and the part per event (issue #16). On PGlite, the default, the
// database runs on this thread, so its CPU time is the HTTP thread's; on PostgreSQL
// (DATABASE_URL) it is only the driver's side. Each batch is the read batcher's statement:
// inserted only if the chain's head row is where the previous batch left it.
// node bench/audit-batch.mjs (after npm run build)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { openEmbedded, openPostgres } from '../dist/kernel/db/connect.js';
import { migrateToLatest } from '../dist/kernel/db/migrate.js';
import { appendRowsIfHeadIs, chainRows } from '../dist/modules/audit/recorder.js';
import { createAuditRepo } from '../dist/modules/audit/repo.js';

const url = process.env.DATABASE_URL;
const dataDir = url ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-audit-batch-'));
const handle = url ? openPostgres(url, { max: 2 }) : await openEmbedded(dataDir);
const { db } = handle;
try {
  await migrateToLatest(db);
  const org = await db.insertInto('organizations').values({ slug: `bench-${randomUUID().slice(0, 8)}`, name: 'bench' }).returning('id').executeTakeFirstOrThrow();
  const context = { organizationId: org.id, actor: { type: 'token', id: randomUUID(), name: 'ci' }, tool: 'API', ip: '127.0.0.1', requestId: 'bench' };
  // What a cached resolution of 300 variables records on every read.
  const details = { path: 'shop/production/backend', format: 'json', member_id: null, key_count: 300, key_set: 'bench', pg_services: [], omitted: [] };
  const event = { event_type: 'READ_SECRET', target_type: 'service', target_id: randomUUID(), target_name: 'shop/production/backend', change: 'Resolved 300 variables of shop/production/backend as json', details };
  let head = await createAuditRepo(db).lockHead(org.id);

  /** One batch of `size` events, as the read batcher sends it. */
  async function batch(size) {
    const rows = chainRows(org.id, Array.from({ length: size }, () => ({ context, event })), head);
    if (!(await appendRowsIfHeadIs(db, org.id, rows, head))) throw new Error('the chain moved under the bench');
    head = { seq: rows.at(-1).seq, hash: rows.at(-1).hash };
  }

  const cpuPerBatch = async (size) => {
    const batches = Math.max(40, Math.round(2000 / size));
    const before = process.cpuUsage();
    for (let i = 0; i < batches; i++) await batch(size);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / batches;
  };

  for (let i = 0; i < 200; i++) await batch(10); // warm up
  const rounds = 3;
  console.log(`\nRead-event batch cost — ${url ? 'PostgreSQL (driver side only)' : 'PGlite (in this process)'}; median of ${rounds} rounds, µs of CPU`);
  console.log('events per batch'.padEnd(18), 'per batch'.padStart(12), 'per event'.padStart(12));
  for (const size of [1, 5, 25, 50]) {
    const costs = [];
    for (let round = 0; round < rounds; round++) costs.push(await cpuPerBatch(size));
    const median = costs.sort((a, b) => a - b)[Math.floor(costs.length / 2)];
    console.log(String(size).padEnd(18), median.toFixed(0).padStart(12), (median / size).toFixed(0).padStart(12));
  }
} finally {
  await handle.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}
