// Shared by the benchmarks: the real server (dist/) in a child process on a fresh embedded
// database (or DATABASE_URL), an HTTP helper, and autocannon runs.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';

export const seconds = Number(process.env.BENCH_SECONDS ?? 5);
// PostgreSQL needs the root key given. A bench database is new, so any key will do — but one
// key for the run: bench/run.mjs's scripts start servers on the same database one after another.
if (process.env.DATABASE_URL && !process.env.COFFER_ROOT_KEY) process.env.COFFER_ROOT_KEY = randomBytes(32).toString('base64');
/**
 * The server to measure: BENCH_SERVER=path/to/main.js runs another build (a copy of an earlier
 * dist/ inside this tree, so it finds node_modules) to compare before and after in one sitting.
 */
export const serverMain = process.env.BENCH_SERVER ?? 'dist/main.js';

/**
 * `dataDir`: an embedded data directory to use (and keep on stop) instead of a fresh one,
 * so a bench can stop the server, seed the database directly and start it again.
 */
export async function startServer(options = {}) {
  const port = 18000 + Math.floor(Math.random() * 1000);
  const base = `http://127.0.0.1:${port}`;
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-'));
  // BENCH_CPU_PROF=dir writes the server's V8 CPU profile there when it stops (node --cpu-prof);
  // BENCH_NODE_ARGS adds any other node flags.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...profile, ...nodeArgs, serverMain], {
    // Every run signs up from 127.0.0.1 into a PostgreSQL database that keeps its sign-up
    // counters between runs: without room, the eleventh run in an hour would get 429.
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      COFFER_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      COFFER_SIGNUP_LIMIT_PER_IP: '1000000',
      COFFER_SIGNUP_LIMIT_PER_EMAIL: '1000000',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`the server exited (${code}) before it was ready`))));
  exited.catch(() => {});
  try {
    await Promise.race([waitReady(base), exited]);
  } catch (error) {
    child.kill('SIGTERM');
    throw error;
  }
  return {
    base,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.on('exit', resolve));
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
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
  // Three minutes: on a machine shared with test suites a start has taken over one.
  for (let i = 0; i < 1800; i++) {
    try {
      if ((await fetch(`${base}${probe}`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${base} did not become ready in 180 s`);
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

/** A bare node:http server (a child process, like Coffer) answering `body` to every request: a path's ceiling. */
export async function bareServer(body, headers) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bare-')), 'body');
  fs.writeFileSync(file, body);
  const port = 19000 + Math.floor(Math.random() * 1000);
  const { fixed, requestId } = ceilingHeaders(headers);
  const source = `const body = require('fs').readFileSync(${JSON.stringify(file)});
const fixed = ${JSON.stringify(fixed)};
const { randomUUID } = require('crypto');
require('http').createServer((req, res) => { res.writeHead(200, ${requestId ? "{ ...fixed, 'content-length': body.length, 'x-request-id': randomUUID() }" : "{ ...fixed, 'content-length': body.length }"}); res.end(body); }).listen(${port}, '127.0.0.1');`;
  const child = spawn(process.execPath, ['-e', source], { stdio: 'inherit' });
  await waitReady(`http://127.0.0.1:${port}`, '/');
  return {
    url: `http://127.0.0.1:${port}/`,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.on('exit', resolve));
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    },
  };
}

/**
 * The ceiling answers the same bytes as Coffer: the body and every header Coffer sent (its
 * security headers weigh as much on the wire and in the load generator's parser as a small
 * body), a fresh request id per answer where Coffer sends one; Node adds date and keep-alive
 * itself. A bare content type (older callers) means only that header.
 */
function ceilingHeaders(headers) {
  if (typeof headers === 'string' || headers == null) return { fixed: headers ? { 'content-type': headers } : {}, requestId: false };
  const fixed = {};
  let requestId = false;
  for (const [name, value] of headers) {
    if (name === 'x-request-id') requestId = true;
    else if (!['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(name)) fixed[name] = value;
  }
  return { fixed, requestId };
}

/** CPU seconds (user + system) a process has used so far; NaN where /proc is missing. */
export function cpuSeconds(pid) {
  return cpuMs(pid) / 1000;
}

/*
 * One table for every bench script. Each script records its rows; when BENCH_TABLE names a
 * JSON file (bench/run.mjs sets it for the scripts it runs), rows are appended there and the
 * script that set it prints the table; without it a script prints its own rows.
 * `target` is the least acceptable ratio (null: shown, not judged); `maxP99` a latency bound in ms;
 * `cpuRatio` (shown, not judged) the ceiling's CPU time per request over the path's, which
 * other jobs on the machine do not move.
 */
const ownRows = [];

export function recordRow({ path: title, reqs, ratio, target = null, p99 = null, maxP99 = null, cpuRatio = null }) {
  keepRow({ path: title, reqs, ratio, target, p99, maxP99, cpuRatio });
}

/**
 * A measured quantity with an upper bound rather than a ratio (a start time, an idle RSS),
 * judged in the same table: `max` null shows it without judging it.
 */
export function recordLimit({ path: title, value, unit, max = null }) {
  keepRow({ path: title, value, unit, max });
}

function keepRow(row) {
  if (!process.env.BENCH_TABLE) return void ownRows.push(row);
  const file = process.env.BENCH_TABLE;
  const rows = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : [];
  fs.writeFileSync(file, JSON.stringify([...rows, row]));
}

/** Prints the rows (BENCH_TABLE's when `file` is given); returns how many missed their target. */
export function printTable(file) {
  // Inside `npm run bench` the script that set BENCH_TABLE prints everyone's rows once.
  if (!file && process.env.BENCH_TABLE) return 0;
  const rows = file && fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : ownRows;
  const isLimit = (r) => r.max !== undefined;
  const judged = (r) => (isLimit(r) ? r.max !== null : r.target !== null || r.maxP99 !== null);
  const passes = (r) =>
    isLimit(r) ? r.max === null || r.value < r.max : (r.target === null || r.ratio >= r.target) && (r.maxP99 === null || r.p99 < r.maxP99);
  const line = (title, reqs, ratio, target, p99, cpuRatio, result) =>
    console.log([title.padEnd(52), reqs.padStart(8), ratio.padStart(9), target.padStart(12), p99.padStart(7), cpuRatio.padStart(9), ` ${result}`].join(' '));
  line('path', 'req/s', 'ratio', 'target', 'p99 ms', 'cpu ratio', 'result');
  for (const r of rows) {
    const result = !judged(r) ? '' : passes(r) ? 'pass' : 'FAIL';
    if (isLimit(r)) {
      const target = r.max === null ? '—' : `< ${r.max} ${r.unit}`;
      line(r.path, '', `${r.value.toFixed(0)} ${r.unit}`, target, '', '', result);
      continue;
    }
    const target = [r.target === null ? '' : `≥ ${r.target}`, r.maxP99 === null ? '' : `p99<${r.maxP99}`].filter(Boolean).join(', ') || '—';
    line(r.path, r.reqs.toFixed(0), r.ratio.toFixed(2), target, String(r.p99 ?? ''), r.cpuRatio == null ? '' : r.cpuRatio.toFixed(2), result);
  }
  const failed = rows.filter((r) => !passes(r)).length;
  if (failed > 0) process.exitCode = 1;
  return failed;
}

export const benchConnections = Number(process.env.BENCH_CONNECTIONS ?? 50);
export const benchRounds = Number(process.env.BENCH_ROUNDS ?? 3);

/**
 * Measures `url` on the running Coffer `server` and on a bare server answering the bytes
 * Coffer answered, in alternating rounds (a burst of load from elsewhere then hits both
 * alike); records the row and returns it, with each side's CPU time per request (µs).
 */
export async function versusBare(server, title, url, token, { body, target = null, maxP99 = null, connections = benchConnections, rounds = benchRounds } = {}) {
  const backend = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
  const sample = await fetch(url, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!sample.ok) throw new Error(`${title}: ${sample.status} ${await sample.text()}`);
  const bare = await bareServer(Buffer.from(await sample.arrayBuffer()), sample.headers);
  const slice = { connections, body, seconds: Math.max(1, Math.round(seconds / rounds)) };
  let ceiling = 0;
  let coffer = 0;
  let ceilingCpu = 0;
  let cofferCpu = 0;
  const p99s = [];
  try {
    // Unmeasured: the first requests of a path run before V8 has optimised its code.
    await measure(`warm-up of ${title}`, url, token, { ...slice, seconds: 1 });
    for (let round = 0; round < rounds; round += 1) {
      let before = cpuSeconds(bare.pid);
      ceiling += (await measure(`bare node:http, same bytes as ${title}`, bare.url, undefined, slice)).rps;
      ceilingCpu += cpuSeconds(bare.pid) - before;
      before = cpuSeconds(server.pid);
      const result = await measure(title, url, token, slice);
      cofferCpu += cpuSeconds(server.pid) - before;
      coffer += result.rps;
      p99s.push(result.p99);
    }
  } finally {
    await bare.stop();
  }
  const p99 = p99s.sort((a, b) => a - b)[Math.floor(p99s.length / 2)];
  const perRequestUs = (cpu, rps) => (cpu * 1e6) / (rps * slice.seconds);
  const row = {
    path: `${title} (${backend})`,
    reqs: coffer / rounds,
    ratio: coffer / ceiling,
    target,
    p99,
    maxP99,
    cpuRatio: ceilingCpu > 0 && cofferCpu > 0 ? ceilingCpu / ceiling / (cofferCpu / coffer) : null,
  };
  recordRow(row);
  return { ...row, ceilingReqs: ceiling / rounds, cpuUs: perRequestUs(cofferCpu, coffer), ceilingCpuUs: perRequestUs(ceilingCpu, ceiling) };
}
