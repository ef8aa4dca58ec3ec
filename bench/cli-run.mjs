#!/usr/bin/env node
// Issue #7: what `coffer run -- true` costs beside `node -e 0`, median of 20 runs each,
// measured in one sitting against the real server (dist/, embedded database), with a CI
// token (the organization found through GET /token) and with COFFER_ORG given.
// node bench/cli-run.mjs (after npm run build)
import { spawnSync } from 'node:child_process';
import { client, seedTree, startServer } from './lib.mjs';

const runs = Number(process.argv[2] ?? 20);
const server = await startServer();
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function timed(args, env) {
  const start = performance.now();
  const result = spawnSync(process.execPath, args, { stdio: 'ignore', env: { PATH: process.env.PATH, ...env } });
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}`);
  return performance.now() - start;
}

try {
  const call = client(server.base);
  const { token, org } = await seedTree(call);
  await call('POST', `/orgs/${org}/projects/shop/environments/production/variables`, { key: 'GREETING', value: 'hello' }, token);
  const { token: ci } = await call('POST', `/orgs/${org}/tokens`, { name: 'cli-bench', preset: 'ci' }, token);
  const run = ['dist/cli/main.js', 'run', '--path', 'shop/production/backend', '--', 'true'];
  const cases = [
    ['node -e 0', ['-e', '0'], {}],
    ['coffer run -- true (CI token)', run, { COFFER_URL: server.base, COFFER_TOKEN: ci }],
    ['coffer run -- true (COFFER_ORG set)', run, { COFFER_URL: server.base, COFFER_TOKEN: ci, COFFER_ORG: org }],
  ];
  const medians = cases.map(([label, args, env]) => {
    process.stderr.write(`timing ${label} ×${runs}…\n`);
    timed(args, env); // warm the file cache
    return [label, median(Array.from({ length: runs }, () => timed(args, env)))];
  });
  console.log(`\nMedian of ${runs} runs each:`);
  for (const [label, ms] of medians) console.log(`  ${label.padEnd(36)} ${ms.toFixed(0).padStart(5)} ms   (+${(ms - medians[0][1]).toFixed(0)} ms over node -e 0)`);
} finally {
  await server.stop();
}
