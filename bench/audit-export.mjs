#!/usr/bin/env node
// Measures that GET …/audit-events/export streams: records N audit events into a fresh
// in-memory database, exports them over real HTTP, and prints peak RSS before and during
// the export (node bench/audit-export.mjs [N], after npm run build).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { buildApp } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';
import { createPGlite, usePGlite } from '../dist/kernel/db/connect.js';
import { migrateToLatest } from '../dist/kernel/db/migrate.js';
import { recordAudit } from '../dist/modules/audit/recorder.js';
import { openAudit } from '../dist/modules/audit/index.js';
import { LocalKeyProvider } from '../dist/kernel/crypto/key-provider.js';

const total = Number(process.argv[2] ?? 100_000);
const handle = await usePGlite(await createPGlite());
await migrateToLatest(handle.db);
const rootKey = randomBytes(32);
const audit = await openAudit(handle.db, rootKey, new LocalKeyProvider(rootKey));
const app = await buildApp({ config: loadConfig({}), db: handle.db, rootKey, audit });
const address = await app.listen({ port: 0, host: '127.0.0.1' });
const api = (method, path, body, token) =>
  fetch(`${address}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body && JSON.stringify(body),
  }).then((r) => r.json());

await api('POST', '/auth/signup', { email: 'bench@example.test', password: 'correct horse battery staple', name: 'b' });
const { token } = await api('POST', '/auth/login', { email: 'bench@example.test', password: 'correct horse battery staple' });
const org = await api('POST', '/orgs', { slug: 'bench' }, token);

const context = { organizationId: org.id, actor: { type: 'system', id: null, name: 'bench' }, tool: 'API', ip: null, requestId: null };
for (let done = 0; done < total; done += 1000) {
  const batch = Array.from({ length: Math.min(1000, total - done) }, (_, i) => ({
    event_type: 'NOTE',
    target_type: 'note',
    target_name: `note ${done + i}`,
    change: `Bench event ${done + i}, with "quotes", commas and a longer line of text to make rows realistic`,
    details: { index: done + i },
  }));
  await handle.db.transaction().execute((tx) => recordAudit(tx, context, batch));
  if (done % 20_000 === 0) process.stderr.write(`recorded ${done} events…\n`);
}
global.gc?.();
const before = process.memoryUsage().rss;
let peak = before;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);

for (const format of ['jsonl', 'csv']) {
  const started = performance.now();
  const bytes = await new Promise((resolve, reject) => {
    let count = 0;
    http.get(`${address}/api/v1/orgs/bench/audit-events/export?format=${format}`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.on('data', (chunk) => (count += chunk.length));
      res.on('end', () => resolve(count));
      res.on('error', reject);
    });
  });
  console.log(`${format}: ${total} events, ${(bytes / 1e6).toFixed(1)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
clearInterval(sampler);
console.log(`RSS before export ${(before / 2 ** 20).toFixed(0)} MiB, peak during export ${(peak / 2 ** 20).toFixed(0)} MiB (export size above)`);
await app.close();
await handle.close();
