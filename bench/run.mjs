#!/usr/bin/env node
// `npm run bench`: starts the real server (dist/) in a child process on a fresh embedded
// database (or DATABASE_URL), seeds it over HTTP, and measures the hot read paths with
// autocannon. Each result is printed as a ratio of the ceiling measured in the same run:
// GET /healthz, which does no authentication and no database work.
import { client, measure, seconds, seedTree, startServer } from './lib.mjs';

const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const server = await startServer();
const base = server.base;
const call = client(base);
const run = (title, url, token, options = {}) => measure(title, `${base}${url}`, token, { connections, ...options });

try {
  const { token, org } = await seedTree(call);

  const { token: apiToken } = await call('POST', `/orgs/${org}/tokens`, { name: 'bench', preset: 'ci', path: 'shop/production' }, token);

  const results = [];
  results.push(await run('ceiling: GET /healthz', '/healthz'));
  results.push(await run('GET /api/v1/me (session)', '/api/v1/me', token));
  results.push(
    await run(
      'GET service (session, 4-level scope)',
      `/api/v1/orgs/${org}/projects/shop/environments/production/services/backend`,
      token,
    ),
  );
  results.push(
    await run(
      'GET service (API token, path shop/production)',
      `/api/v1/orgs/${org}/projects/shop/environments/production/services/backend`,
      apiToken,
    ),
  );
  results.push(await run('GET projects list (session)', `/api/v1/orgs/${org}/projects`, token));
  results.push(await run('ceiling @50: GET /healthz', '/healthz', undefined, { connections: 50 }));
  results.push(
    await run('POST authz/check @50 (session)', `/api/v1/orgs/${org}/authz/check`, token, {
      connections: 50,
      body: { action: 'deployment:trigger', resource: 'shop/production/backend' },
    }),
  );

  const ceiling = results[0].rps;
  const ceiling50 = results.find((r) => r.title.startsWith('ceiling @50')).rps;
  console.log(`\nCoffer bench — ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}, ${connections} connections, ${seconds} s each`);
  console.log('path'.padEnd(44), 'req/s'.padStart(9), 'ratio'.padStart(7), 'p50 ms'.padStart(7), 'p99 ms'.padStart(7));
  for (const r of results) {
    console.log(
      r.title.padEnd(44),
      r.rps.toFixed(0).padStart(9),
      (r.rps / (r.title.includes('@50') ? ceiling50 : ceiling)).toFixed(2).padStart(7),
      String(r.p50).padStart(7),
      String(r.p99).padStart(7),
    );
  }
  console.log('(ratios of the @50 rows are against the @50 ceiling)');
  await evaluatorBench();
} finally {
  await server.stop();
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
