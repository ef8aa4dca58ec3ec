#!/usr/bin/env node
// Issue #11: how long `node dist/main.js` takes from spawn to the first 200 from /readyz, on a
// new embedded database (the first start) and then on that same, existing one (median of N
// later starts, 5 by default), each stopped with SIGTERM before the next. Beside the wall-clock
// time it reports the CPU time the server process used until ready (Linux /proc), which other
// jobs on a busy machine do not inflate: on an idle machine the wall time approaches it; and
// the server's idle RSS two seconds after it was ready.
// node bench/start.mjs [N]   (after npm run build; BENCH_SERVER=other/main.js for another build)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuMs, printTable, recordLimit, serverMain } from './lib.mjs';

const runs = Number(process.argv[2] ?? 5);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-start-'));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function start() {
  const port = 19000 + Math.floor(Math.random() * 1000);
  const began = performance.now();
  const child = spawn(process.execPath, [serverMain], {
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', COFFER_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (;;) {
    if (child.exitCode !== null) throw new Error('the server exited before it was ready');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((response) => response.ok, () => false);
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const ms = performance.now() - began;
  const cpu = cpuMs(child.pid);
  // Idle RSS: two seconds after ready, with no request but the probe's.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const rss = rssMb(child.pid);
  child.kill('SIGTERM');
  await exited;
  return { ms, cpu, rss };
}

/** Resident set size of a live process in MB (Linux /proc; NaN elsewhere). */
function rssMb(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

try {
  const first = await start();
  const later = [];
  for (let i = 0; i < runs; i++) later.push(await start());
  const list = (values) => values.map((ms) => ms.toFixed(0)).join(', ');
  console.log(`first start (creates the database): ${first.ms.toFixed(0)} ms (CPU ${first.cpu.toFixed(0)} ms)`);
  console.log(`later starts: median ${median(later.map((r) => r.ms)).toFixed(0)} ms of ${runs} (${list(later.map((r) => r.ms))} ms)`);
  console.log(`  CPU time until ready: median ${median(later.map((r) => r.cpu)).toFixed(0)} ms (${list(later.map((r) => r.cpu))} ms)`);
  console.log(`  idle RSS 2 s after ready: median ${median(later.map((r) => r.rss)).toFixed(0)} MB (${list(later.map((r) => r.rss))} MB)`);
  console.log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os.loadavg()[0].toFixed(2)}`);
  // Issue #16's bounds, in the bench's one table (npm run bench exits 1 when one is missed).
  recordLimit({ path: `later start to /readyz, median of ${runs} (embedded)`, value: median(later.map((r) => r.ms)), unit: 'ms', max: 1000 });
  recordLimit({ path: 'first start to /readyz (embedded)', value: first.ms, unit: 'ms', max: 5000 });
  recordLimit({ path: 'idle RSS 2 s after ready (embedded)', value: median(later.map((r) => r.rss)), unit: 'MB', max: 250 });
  printTable();
} finally {
  fs.rmSync(dataDir, { recursive: true, force: true });
}
