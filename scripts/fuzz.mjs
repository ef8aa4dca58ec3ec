#!/usr/bin/env node
// `npm run fuzz -- --requests 100000 [--seed 18] [--backend pglite|postgres]`: the fuzzer that
// `npm test` runs with a small budget (test/fuzz/fuzz.api.test.ts), with a bigger one, on each
// backend (PostgreSQL when reachable); prints requests, the status histogram and every cause of
// a 5xx with a request that caused it. Exits 1 when any request answered 5xx.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    backend: { type: 'string' },
  },
});
const requests = Number(values.requests);
if (!Number.isSafeInteger(requests) || requests < 1) {
  console.error('--requests must be a positive whole number');
  process.exit(2);
}

const dir = path.resolve('node_modules/.cache/coffer-fuzz');
fs.rmSync(dir, { recursive: true, force: true });
const vitest = path.resolve('node_modules/vitest/vitest.mjs');
const args = [vitest, 'run', 'test/fuzz/fuzz.api.test.ts', ...(values.backend ? ['--project', values.backend] : [])];
console.log(`Fuzzing with ${requests} requests per backend, seed ${values.seed}`);
const result = spawnSync(process.execPath, args, {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, COFFER_FUZZ_REQUESTS: String(requests), COFFER_FUZZ_SEED: values.seed, COFFER_FUZZ_SUMMARY_DIR: dir },
});

const summaries = fs.existsSync(dir) ? fs.readdirSync(dir).map((file) => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'))) : [];
if (summaries.length === 0) {
  console.error('The fuzzer produced no summary; run `npx vitest run test/fuzz/fuzz.api.test.ts` to see why');
  process.exit(1);
}
let failures = 0;
for (const summary of summaries) {
  failures += summary.failures;
  const histogram = Object.entries(summary.statuses).sort(([a], [b]) => Number(a) - Number(b)).map(([status, count]) => `${status}: ${count}`).join(', ');
  console.log(`\n${summary.backend}: ${summary.requests} requests over ${summary.operations} operations in ${(summary.milliseconds / 1000).toFixed(1)} s (seed ${summary.seed})`);
  console.log(`  statuses: ${histogram}`);
  console.log(`  context rebuilt: ${summary.rebuilds} times`);
  for (const unsent of summary.unsent) console.log(`  not sent (the client refused it): ${unsent}`);
  console.log(`  5xx: ${summary.failures}`);
  for (const [cause, count] of Object.entries(summary.byCause).sort(([, a], [, b]) => b - a)) console.log(`    ${count} × ${cause}`);
  for (const example of summary.examples.slice(0, 20)) {
    console.log(`  ${example.status} ${example.method} ${example.url} as ${example.principal} (${example.mutation})${example.payload ? ` body ${example.payload}` : ''}`);
    if (example.cause) console.log(`      server said: ${example.cause}`);
  }
}
console.log(`\nTotal: ${summaries.reduce((n, s) => n + s.requests, 0)} requests, ${failures} answered 5xx`);
process.exit(failures > 0 || result.status !== 0 ? 1 : 0);
