#!/usr/bin/env node
// PostgreSQL's own CPU per group-committed batch of read events (issue #16), read from
// /proc/<backend pid>/stat: less sensitive than req/s to other jobs on the machine (still inflated under heavy load: compare in one sitting).
// DATABASE_URL=postgres://… node bench/audit-pg-cpu.mjs [dist dir, default dist] (same host as PostgreSQL)
// EV=3000 events per size.
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
const dir = process.argv[2] ?? 'dist';
const { openPostgres } = await import(`../${dir}/kernel/db/connect.js`);
const { migrateToLatest } = await import(`../${dir}/kernel/db/migrate.js`);
const { appendRowsIfHeadIs, chainRows } = await import(`../${dir}/modules/audit/recorder.js`);
const { createAuditRepo } = await import(`../${dir}/modules/audit/repo.js`);
const { sql } = await import('kysely');
const handle = openPostgres(process.env.DATABASE_URL, { max: 1 });
const { db } = handle;
await migrateToLatest(db);
const org = await db.insertInto('organizations').values({ slug: `bench-${randomUUID().slice(0, 8)}`, name: 'bench' }).returning('id').executeTakeFirstOrThrow();
const context = { organizationId: org.id, actor: { type: 'token', id: randomUUID(), name: 'ci' }, tool: 'API', ip: '127.0.0.1', requestId: 'req-1234567890' };
const details = { path: 'shop/production/backend', format: 'json', member_id: null, key_count: 300, key_set: 'a'.repeat(64), pg_services: [], omitted: [] };
const event = { event_type: 'READ_SECRET', target_type: 'service', target_id: randomUUID(), target_name: 'shop/production/backend', change: 'Resolved 300 variables of shop/production/backend as json', details };
let head = await createAuditRepo(db).lockHead(org.id);
const pid = (await sql`select pg_backend_pid() p`.execute(db)).rows[0].p;
const tick = 100; // USER_HZ: /proc counts in ticks of 10 ms, hence thousands of events per size
const pgCpu = () => { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * (1e6 / tick); };
async function batch(n) {
  const rows = chainRows(org.id, Array.from({ length: n }, () => ({ context, event })), head);
  if (!(await appendRowsIfHeadIs(db, org.id, rows, head))) throw new Error('moved');
  head = { seq: rows.at(-1).seq, hash: rows.at(-1).hash };
}
for (let i = 0; i < 50; i++) await batch(20);
const out = [];
for (const n of [1, 20]) {
  const count = Math.round(Number(process.env.EV ?? 3000) / n);
  const c0 = pgCpu(); const n0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < count; i++) await batch(n);
  const wall = (performance.now() - t0) * 1000 / count; const pg = (pgCpu() - c0) / count; const nc = process.cpuUsage(n0);
  out.push(`n=${n}: PG backend CPU µs/batch ${pg.toFixed(0)} (${(pg / n).toFixed(1)}/ev), node CPU µs/batch ${((nc.user + nc.system) / count).toFixed(0)}, wall µs/batch ${wall.toFixed(0)}`);
}
console.log(dir, '\n ' + out.join('\n '));
await handle.close();
