#!/usr/bin/env node
// Issue #14: the time from a variable write's response to the moment a child run by
// `coffer run --watch` has been restarted with the new value (its first line written), median
// of N writes (20 by default), against the real server (dist/, embedded database or
// DATABASE_URL). The change stream polls every COFFER_CHANGE_POLL_MS (500 by default), which
// bounds most of it; set it in the environment to compare.
// node bench/watch.mjs [N]   (after npm run build)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { client, seedTree, startServer } from './lib.mjs';

const runs = Number(process.argv[2] ?? 20);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const server = await startServer();
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-watch-bench-')), 'starts.log');
let watcher;

try {
  const call = client(server.base);
  const { token, org } = await seedTree(call);
  const env = `/orgs/${org}/projects/shop/environments/production`;
  const { id } = await call('POST', `${env}/variables`, { key: 'GREETING', value: 'v0' }, token);
  const { token: ci } = await call('POST', `/orgs/${org}/tokens`, { name: 'watch-bench', preset: 'ci' }, token);
  const script = `require('fs').appendFileSync(${JSON.stringify(out)}, process.env.GREETING + '\\n'); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);`;
  watcher = spawn(process.execPath, ['dist/cli/main.js', 'run', '--watch', '--grace-period', '5', '--path', 'shop/production', '--', process.execPath, '-e', script], {
    env: { PATH: process.env.PATH, COFFER_URL: server.base, COFFER_TOKEN: ci, COFFER_ORG: org },
    stdio: ['ignore', 'inherit', 'ignore'],
  });
  const started = (value) => fs.existsSync(out) && fs.readFileSync(out, 'utf8').split('\n').includes(value);
  const until = async (value) => {
    const deadline = Date.now() + 60_000;
    while (!started(value)) {
      if (Date.now() > deadline) throw new Error(`the child never started with ${value}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  await until('v0');
  // Let the watch connect its stream before the first measured write.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const times = [];
  for (let index = 1; index <= runs; index++) {
    await call('PATCH', `${env}/variables/${id}`, { value: `v${index}` }, token);
    const began = performance.now();
    await until(`v${index}`);
    times.push(performance.now() - began);
  }
  const poll = process.env.COFFER_CHANGE_POLL_MS ?? '500';
  console.log(`write response → restarted child (coffer run --watch), ${runs} writes, COFFER_CHANGE_POLL_MS=${poll}:`);
  console.log(`  median ${median(times).toFixed(0)} ms, min ${Math.min(...times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms`);
} finally {
  watcher?.kill('SIGTERM');
  await server.stop();
}
