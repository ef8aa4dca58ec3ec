#!/usr/bin/env node
// What recording costs (issue #6): variable writes per second with and without the audit
// event in the same transaction, measured in one run on PostgreSQL (DATABASE_URL, or a
// temporary database on 127.0.0.1:5432 created and dropped here). Each write does what the
// variables service does: seal under the project's data key, insert the variable and its
// version; "with audit" adds the chained event in the same transaction.
// node bench/audit-cost.mjs [writes per run] (after npm run build)
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { seal, valueAad } from '../dist/kernel/crypto/aead.js';
import { LocalKeyProvider } from '../dist/kernel/crypto/key-provider.js';
import { openPostgres } from '../dist/kernel/db/connect.js';
import { migrateToLatest } from '../dist/kernel/db/migrate.js';
import { withAudit } from '../dist/modules/audit/recorder.js';
import { createKeyring } from '../dist/kernel/crypto/keyring.js';
import { createVariablesRepo } from '../dist/modules/variables/repo.js';
import { inParallel, printTable, recordRow } from './lib.mjs';

const writes = Number(process.argv[2] ?? 3000);
const parallel = 8;
const adminUrl = 'postgres://postgres@127.0.0.1:5432/test';
let url = process.env.DATABASE_URL;
let temporary;
if (!url) {
  temporary = `coffer_bench_audit_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${temporary}`);
  await admin.end();
  url = adminUrl.replace(/\/test$/, `/${temporary}`);
}
const handle = openPostgres(url, { max: parallel + 2 });
try {
  await migrateToLatest(handle.db);
  const org = await handle.db.insertInto('organizations').values({ slug: `bench-${randomUUID().slice(0, 8)}`, name: 'bench' }).returning('id').executeTakeFirstOrThrow();
  const project = await handle.db.insertInto('projects').values({ organization_id: org.id, slug: 'shop', name: 'shop', description: '' }).returning('id').executeTakeFirstOrThrow();
  const keyring = createKeyring({ db: handle.db, provider: new LocalKeyProvider(randomBytes(32)) });
  const context = { organizationId: org.id, actor: { type: 'system', id: null, name: 'bench' }, tool: 'API', ip: '127.0.0.1', requestId: null };
  const place = { level: 'project', organizationId: org.id, projectId: project.id, environmentId: null, serviceId: null };

  async function write(tx, key, note) {
    const dataKey = await keyring.forOwner(tx, org.id, project.id);
    const id = randomUUID();
    const ciphertext = seal(dataKey.key, `value of ${key}`, valueAad(id, 1));
    const repo = createVariablesRepo(tx);
    await repo.insert({ id, place, assignee_user_id: null, type: 'secret', name: key, mount_path: null, immutable: false, data_key_id: dataKey.id, ciphertext });
    await repo.addVersion({ variable_id: id, version: 1, operation: 'CREATE', type: 'secret', mount_path: null, ciphertext, rolled_back_from: null, actor_type: 'system', actor_id: null, actor_name: 'bench' });
    note?.({ event_type: 'CREATE', target_type: 'variable', target_id: id, target_name: `shop:${key}`, change: `Created secret ${key} in shop`, details: { after: { key, type: 'secret', value_hmac: 'hmac-sha256:' + 'ab'.repeat(32) } } });
  }

  async function run(label, withEvent) {
    const keys = Array.from({ length: writes }, (_, i) => `${label.toUpperCase().replace(/\W/g, '_')}_${i}`);
    const start = performance.now();
    await inParallel(keys, parallel, (key) =>
      withEvent ? withAudit(handle.db, context, (tx, note) => write(tx, key, note)) : handle.db.transaction().execute((tx) => write(tx, key)),
    );
    const seconds = (performance.now() - start) / 1000;
    return { label, perSecond: writes / seconds };
  }

  process.stderr.write(`${writes} variable writes each way, ${parallel} writers…\n`);
  await run('warmup', false);
  const without = await run('without audit', false);
  const withEvent = await run('with audit', true);
  const without2 = await run('without audit again', false);
  console.log(`\nVariable writes on PostgreSQL, ${parallel} concurrent writers, ${writes} each:`);
  for (const r of [without, withEvent, without2]) console.log(`  ${r.label.padEnd(22)} ${r.perSecond.toFixed(0).padStart(6)} writes/s`);
  const base = (without.perSecond + without2.perSecond) / 2;
  console.log(`  with audit / without: ${(withEvent.perSecond / base).toFixed(2)}`);
  // No latency is measured here: p99 is left empty.
  recordRow({ path: `variable writes with their audit event, ${parallel} writers (PostgreSQL)`, reqs: withEvent.perSecond, ratio: withEvent.perSecond / base, target: 0.8, p99: '' });
  printTable();
} finally {
  await handle.close();
  if (temporary) {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${temporary} with (force)`);
    await admin.end();
  }
}
