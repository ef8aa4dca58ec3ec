// Shared by the benchmarks: the real server (dist/) in a child process on a fresh embedded
// database (or DATABASE_URL), an HTTP helper, and autocannon runs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';

export const seconds = Number(process.env.BENCH_SECONDS ?? 5);

export async function startServer() {
  const port = 18000 + Math.floor(Math.random() * 1000);
  const base = `http://127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-'));
  // BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' profiles the server (written when it stops).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, 'dist/main.js'], {
    // Every run signs up from 127.0.0.1 into a PostgreSQL database that keeps its sign-up
    // counters between runs: without room, the eleventh run in an hour would get 429.
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', COFFER_DATA_DIR: dataDir, LOG_LEVEL: 'warn', COFFER_SIGNUP_LIMIT_PER_IP: '1000000', COFFER_SIGNUP_LIMIT_PER_EMAIL: '1000000' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitReady(base);
  return {
    base,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.on('exit', resolve));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** utime + stime of a live process, in ms (Linux /proc; NaN elsewhere): unlike req/s, barely moved by other jobs on the machine. */
export function cpuMs(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks, USER_HZ = 100
  } catch {
    return Number.NaN;
  }
}

export async function waitReady(base, probe = '/readyz') {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}${probe}`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${base} did not become ready in 60 s`);
}

export function client(base) {
  return async function call(method, url, body, token) {
    const response = await fetch(`${base}/api/v1${url}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? null : response.json();
  };
}

/**
 * A signed-in owner of a new organization with project shop, environment production and
 * service backend. Names are unique per run: benchmarks may share one PostgreSQL database.
 */
export async function seedTree(call) {
  const password = 'correct horse battery staple';
  const org = `bench-${Math.random().toString(36).slice(2, 8)}`;
  const email = `${org}@example.test`;
  await call('POST', '/auth/signup', { email, password, name: 'Bench' });
  const { token } = await call('POST', '/auth/login', { email, password });
  await call('POST', '/orgs', { slug: org }, token);
  await call('POST', `/orgs/${org}/projects`, { slug: 'shop' }, token);
  await call('POST', `/orgs/${org}/projects/shop/environments`, { slug: 'production', type: 'PRODUCTION' }, token);
  await call('POST', `/orgs/${org}/projects/shop/environments/production/services`, { slug: 'backend', kind: 'application' }, token);
  return { token, org };
}

export function measure(title, url, token, options = {}) {
  return new Promise((resolve, reject) => {
    process.stderr.write(`measuring ${title} for ${options.seconds ?? seconds} s…\n`);
    autocannon(
      {
        url,
        connections: options.connections ?? 10,
        duration: options.seconds ?? seconds,
        method: options.body ? 'POST' : 'GET',
        body: options.body ? JSON.stringify(options.body) : undefined,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(options.body ? { 'content-type': 'application/json' } : {}) },
      },
      (error, result) => {
        if (error) return reject(error);
        if (result.non2xx > 0) return reject(new Error(`${title}: ${result.non2xx} non-2xx responses`));
        resolve({ title, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, bytes: result.throughput.average });
      },
    );
  });
}

/** Runs `task` over `items` with `parallel` in flight, printing progress to stderr. */
export async function inParallel(items, parallel, task, label) {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      await task(item);
      done += 1;
      if (label && done % 500 === 0) process.stderr.write(`${label}: ${done}/${items.length}\n`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** Rows of the one table `npm run bench` prints: each a path, its req/s, its ratio to the ceiling, the ratio it must reach, and its p99. */
const tableRows = [];
export function recordRow({ path, reqs, ratio, target, p99 }) {
  tableRows.push({ path, reqs, ratio, target, p99 });
}

/** Prints the recorded rows; a ratio under its target makes the process exit non-zero. */
export function printTable() {
  console.log(`\n${'path'.padEnd(52)} ${'req/s'.padStart(8)} ${'ratio'.padStart(6)} ${'target'.padStart(6)} ${'p99 ms'.padStart(7)}`);
  for (const row of tableRows) {
    const under = row.target !== undefined && row.ratio < row.target;
    console.log(
      `${row.path.padEnd(52)} ${row.reqs.toFixed(0).padStart(8)} ${row.ratio.toFixed(2).padStart(6)} ${(row.target === undefined ? '' : row.target.toFixed(2)).padStart(6)} ${String(row.p99).padStart(7)}${under ? '  UNDER TARGET' : ''}`,
    );
    if (under) process.exitCode = 1;
  }
  tableRows.length = 0;
}
