#!/usr/bin/env node
// `npm run bench`: starts the real server (dist/) in a child process on a fresh embedded
// database (or DATABASE_URL), seeds it over HTTP, and measures the hot read paths of people
// and tokens with autocannon, 50 connections. Each path's ceiling is a bare node:http server
// answering the same bytes, measured in the same run, so the ratios hold on a busy machine
// where the absolute numbers do not. Then it runs the other bench scripts with BENCH_TABLE
// set, prints one table of every row, and exits non-zero when a row misses its target.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchConnections, benchRounds, client, inParallel, printTable, seconds, seedTree, startServer, versusBare as versusBareOf } from './lib.mjs';

const table = process.env.BENCH_TABLE ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-table-')), 'rows.json');
process.env.BENCH_TABLE = table;

const server = await startServer();
const versusBare = (title, url, token, options) => versusBareOf(server, title, url, token, options);
const base = `${server.base}/api/v1`;
const call = client(server.base);
try {
  const { token, org } = await seedTree(call);
  const serviceUrl = `/orgs/${org}/projects/shop/environments/production/services/backend`;
  process.stderr.write('seeding 30 variables on the service…\n');
  const variables = Array.from({ length: 30 }, (_, i) => ({ key: `BENCH_${i}`, type: i % 3 === 0 ? 'secret' : 'plain', value: `value-${i}-${'x'.repeat(30)}` }));
  await inParallel(variables, 4, (body) => call('POST', `${serviceUrl}/variables`, body, token));
  const { token: apiToken } = await call('POST', `/orgs/${org}/tokens`, { name: 'bench', preset: 'ci', path: 'shop/production' }, token);

  // Issue #16: people as fast as tokens (≥ 0.5), authz/check ≥ 0.5 with p99 under 20 ms.
  await versusBare('GET /me (session)', `${base}/me`, token, { target: 0.5 });
  await versusBare('GET service (session)', `${base}${serviceUrl}`, token, { target: 0.5 });
  await versusBare('GET service variables, masked (session)', `${base}${serviceUrl}/variables`, token, { target: 0.5 });
  await versusBare('POST authz/check (session)', `${base}/orgs/${org}/authz/check`, token, {
    body: { action: 'deployment:trigger', resource: 'shop/production/backend' },
    target: 0.5,
    maxP99: 20,
  });
  await versusBare('GET service (API token)', `${base}${serviceUrl}`, apiToken);
  await versusBare('GET projects list (session)', `${base}/orgs/${org}/projects`, token);
} finally {
  await server.stop();
}
await evaluatorBench();

// The other scripts append their rows to the same table.
if (!process.argv.includes('--only-people')) {
  for (const script of ['resolve.mjs', 'start.mjs']) {
    const run = spawnSync(process.execPath, [path.join(import.meta.dirname, script)], { stdio: 'inherit', env: process.env });
    if (run.status !== 0) console.error(`bench/${script} exited with ${run.status}`);
  }
}

console.log(`\nCoffer bench — ${benchConnections} connections, ${benchRounds} alternating rounds of ${Math.max(1, Math.round(seconds / benchRounds))} s per path and ceiling (p99: median round), ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}`);
const failed = printTable(table);
if (failed > 0) {
  console.log(`${failed} row(s) under target`);
  process.exitCode = 1;
}

/**
 * In-process authorization: checks per second for a warm member of a 50-project custom
 * role, against the ceiling of an empty loop over the same inputs.
 */
async function evaluatorBench() {
  const { grantsOfCustomRole } = await import('../dist/modules/authz/grants.js');
  const { can } = await import('../dist/modules/authz/evaluator.js');
  const types = ['DEVELOPMENT', 'PREVIEW', 'STAGING', 'PRODUCTION'];
  const levels = ['VIEWER', 'DEPLOYER', 'MANAGER', 'NO_ACCESS'];
  const projects = new Map();
  for (let i = 0; i < 50; i++) {
    projects.set(`p${i}`, { isAdmin: false, levels: Object.fromEntries(types.map((t, j) => [t, levels[(i + j) % 4]])) });
  }
  const grants = grantsOfCustomRole({ id: 'r', name: 'bench', clusters: new Map(), projects, environments: new Map() });
  const organization = { id: 'o' };
  const resources = [];
  for (let i = 0; i < 64; i++) {
    const p = `p${i % 50}`;
    resources.push({ kind: 'environment', organization, project: { id: p }, environment: { id: `e${i}`, type: types[i % 4] } });
  }
  const actions = ['secret:read', 'deployment:trigger', 'secret:decrypt', 'service:create'];
  const n = 5_000_000;
  let allowed = 0;
  let start = performance.now();
  for (let i = 0; i < n; i++) if (resources[i & 63] && actions[i & 3]) allowed++;
  const loopMs = performance.now() - start;
  allowed = 0;
  start = performance.now();
  for (let i = 0; i < n; i++) if (can(grants, actions[i & 3], resources[i & 63])) allowed++;
  const checkMs = performance.now() - start;
  const perSecond = n / (checkMs / 1000);
  console.log(
    `\nin-process can(): ${(perSecond / 1e6).toFixed(1)} M checks/s (50-project custom role, ${allowed} of ${n} allowed); ` +
      `empty loop ceiling ${(n / (loopMs / 1000) / 1e6).toFixed(0)} M/s; ratio ${(loopMs / checkMs).toFixed(3)}`,
  );
}
