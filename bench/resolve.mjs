#!/usr/bin/env node
// Resolution under load (issue #4): a service with 300 variables over four scopes (a third
// secrets) resolved by a CI token with 50 connections, beside a bare Node HTTP server (a
// child process, like Coffer) answering the same bytes, measured in the same run, and the same
// service read through the Vault-compatible API (issue 14). Then how
// resolve latency grows from 100 to 10,000 variables, cold (just after a write) and warm.
import os from 'node:os';
import { benchConnections, client, inParallel, printTable, seedTree, startServer, versusBare } from './lib.mjs';

const server = await startServer();
const call = client(server.base);
/** The organization seedTree made for this run. */
let org;
const scopes = (env, service) => [
  `/orgs/${org}/variables`,
  `/orgs/${org}/projects/shop/variables`,
  `/orgs/${org}/projects/shop/environments/${env}/variables`,
  `/orgs/${org}/projects/shop/environments/${env}/services/${service}/variables`,
];

/** `count` variables spread evenly over the four scopes, every third a secret. */
async function seedVariables(token, env, service, count, label) {
  const items = Array.from({ length: count }, (_, i) => ({
    url: scopes(env, service)[i % 4],
    body: { key: `VAR_${env.toUpperCase().replace(/-/g, '_')}_${i}`, type: i % 3 === 0 ? 'secret' : 'plain', value: `value-${i}-${'x'.repeat(40)}` },
  }));
  await inParallel(items, 8, (item) => call('POST', item.url, item.body, token), label);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function timed(url, token) {
  const start = performance.now();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return performance.now() - start;
}

try {
  const seeded = await seedTree(call);
  const { token } = seeded;
  org = seeded.org;
  process.stderr.write('seeding 300 variables over four scopes…\n');
  await seedVariables(token, 'production', 'backend', 300);
  const { token: ci } = await call('POST', `/orgs/${org}/tokens`, { name: 'ci', preset: 'ci' }, token);
  const resolveUrl = `${server.base}/api/v1/orgs/${org}/projects/shop/environments/production/services/backend/resolve`;

  // Alternating rounds against the bare ceiling, as for the people paths (bench/run.mjs): on a
  // machine whose speed drifts from minute to minute, one long run of each compares two moments.
  const backend = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
  const measured = [await versusBare(server, 'resolve 300 variables, CI token @50', resolveUrl, ci, { target: backend === 'PGlite' ? 0.4 : 0.6 })];
  // Issue 14: the same service through the Vault-compatible KV v2 API (what node-vault or ESO would read).
  if (process.env.BENCH_VAULT !== '0') measured.push(await versusBare(server, 'vault KV v2 read, same service @50', `${server.base}/v1/${org}/data/shop/production/backend`, ci));

  console.log(`\nResolve bench — ${backend}, ${benchConnections} connections, load average ${os.loadavg()[0].toFixed(1)}`);
  console.log('path'.padEnd(52), 'req/s'.padStart(9), 'ceiling'.padStart(9), 'ratio'.padStart(7), 'p99 ms'.padStart(7), 'CPU µs/req'.padStart(11), 'ceiling CPU'.padStart(12));
  for (const r of measured) {
    console.log(r.path.padEnd(52), r.reqs.toFixed(0).padStart(9), r.ceilingReqs.toFixed(0).padStart(9), r.ratio.toFixed(2).padStart(7), String(r.p99).padStart(7), r.cpuUs.toFixed(0).padStart(11), r.ceilingCpuUs.toFixed(0).padStart(12));
  }
  printTable();

  // Growth: one environment and service per size; cold = the first resolve after a write.
  const sizes = (process.env.BENCH_SIZES ?? '100,1000,10000').split(',').filter(Boolean).map(Number);
  const rows = [];
  for (const size of sizes) {
    const env = `size-${size}`;
    await call('POST', `/orgs/${org}/projects/shop/environments`, { slug: env, type: 'STAGING' }, token);
    await call('POST', `/orgs/${org}/projects/shop/environments/${env}/services`, { slug: 'svc', kind: 'application' }, token);
    // Organization and project variables are shared by every size: put these in the environment and service only.
    const items = Array.from({ length: size }, (_, i) => ({
      url: scopes(env, 'svc')[2 + (i % 2)],
      body: { key: `K_${i}`, type: i % 3 === 0 ? 'secret' : 'plain', value: `value-${i}-${'x'.repeat(40)}` },
    }));
    await inParallel(items, 8, (item) => call('POST', item.url, item.body, token), `seeding ${size}`);
    const url = `${server.base}/api/v1/orgs/${org}/projects/shop/environments/${env}/services/svc/resolve`;
    const cold = [];
    const warm = [];
    for (let i = 0; i < 5; i++) {
      await call('PATCH', `/orgs/${org}/projects/shop/environments/${env}/services/svc`, { name: `svc ${i}` }, token);
      cold.push(await timed(url, ci));
      for (let j = 0; j < 5; j++) warm.push(await timed(url, ci));
    }
    rows.push({ size: size + 300 / 2, cold: median(cold), warm: median(warm) });
  }
  if (rows.length > 0) {
    console.log('\nvariables reaching the service'.padEnd(32), 'cold ms'.padStart(9), 'warm ms'.padStart(9), '(medians, one client)');
    for (const row of rows) console.log(String(row.size).padEnd(31), row.cold.toFixed(1).padStart(9), row.warm.toFixed(1).padStart(9));
    console.log('(the 150 organization and project variables of the first set reach every size too)');
  }
} finally {
  await server.stop();
}
