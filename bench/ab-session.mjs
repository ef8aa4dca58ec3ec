#!/usr/bin/env node
// Before/after on a busy machine: the session paths of issue #16 on two builds (directories each
// holding dist/ and node_modules/), alternating round by round with a bare node:http ceiling,
// reporting req/s ratios and the CPU each server spent per request. DB0/DB1: a PostgreSQL URL per
// build (each its own fresh database; COFFER_ROOT_KEY set), else each runs on its own embedded one.
// Usage: node bench/ab-session.mjs <dirA> <dirB> [me,service,vars,check,tokenservice]   (ROUNDS=4, S=2 seconds)
// (tokenservice: GET service with an API token, the path CI takes, for comparison.)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bareServer, client, cpuMs, measure, seedTree, waitReady, inParallel } from './lib.mjs';
const dirs = process.argv.slice(2, 4);
const which = (process.argv[4] ?? 'me,service,vars,check').split(',');
const rounds = Number(process.env.ROUNDS ?? 4), secs = Number(process.env.S ?? 2);
async function start(dir, i) {
  const port = 18000 + Math.floor(Math.random() * 1000);
  const base = `http://127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-ab-'));
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: dir, env: { ...process.env, ...(process.env[`DB${i}`] ? { DATABASE_URL: process.env[`DB${i}`] } : {}), PORT: String(port), HOST: '127.0.0.1', COFFER_DATA_DIR: dataDir, LOG_LEVEL: 'warn', COFFER_SIGNUP_LIMIT_PER_IP: '1000000', COFFER_SIGNUP_LIMIT_PER_EMAIL: '1000000' }, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitReady(base);
  const call = client(base);
  const { token, org } = await seedTree(call);
  const serviceUrl = `/orgs/${org}/projects/shop/environments/production/services/backend`;
  const variables = Array.from({ length: 30 }, (_, i) => ({ key: `BENCH_${i}`, type: i % 3 === 0 ? 'secret' : 'plain', value: `value-${i}-${'x'.repeat(30)}` }));
  await inParallel(variables, 4, (body) => call('POST', `${serviceUrl}/variables`, body, token));
  const { token: apiToken } = await call('POST', `/orgs/${org}/tokens`, { name: 'bench', preset: 'ci', path: 'shop/production' }, token);
  const api = `${base}/api/v1`;
  return { child, token, dataDir, paths: { me: [`${api}/me`], service: [`${api}${serviceUrl}`], vars: [`${api}${serviceUrl}/variables`], check: [`${api}/orgs/${org}/authz/check`, { action: 'deployment:trigger', resource: 'shop/production/backend' }], tokenservice: [`${api}${serviceUrl}`, undefined, apiToken] } };
}
const servers = [];
for (const [i, d] of dirs.entries()) servers.push(await start(d, i));
const out = [];
try {
  for (const w of which) {
    const [url0, body] = servers[0].paths[w];
    const tokenOf = (s) => s.paths[w][2] ?? s.token;
    const sample = await fetch(url0, { method: body ? 'POST' : 'GET', headers: { authorization: `Bearer ${tokenOf(servers[0])}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const bare = await bareServer(Buffer.from(await sample.arrayBuffer()), sample.headers);
    const acc = [{ n: 0, cpu: 0 }, { n: 0, cpu: 0 }, { n: 0, cpu: 0 }];
    const p99 = [[], [], []];
    for (let r = 0; r < rounds; r++) {
      const targets = [[bare.pid, bare.url, undefined], ...servers.map((s) => [s.child.pid, s.paths[w][0], tokenOf(s)])];
      for (let i = 0; i < 3; i++) {
        const [pid, url, token] = targets[i];
        const before = cpuMs(pid);
        const res = await measure(w, url, token, { connections: 50, body, seconds: secs });
        acc[i].cpu += cpuMs(pid) - before; acc[i].n += res.rps * secs; p99[i].push(res.p99);
      }
    }
    await bare.stop();
    const us = acc.map((a) => (1000 * a.cpu) / a.n), rps = acc.map((a) => a.n / (rounds * secs));
    const med = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    out.push(`${w.padEnd(8)} bare ${rps[0].toFixed(0)}/s ${us[0].toFixed(0)}µs | A ${rps[1].toFixed(0)}/s ratio ${(rps[1] / rps[0]).toFixed(2)} ${us[1].toFixed(0)}µs cpuRatio ${(us[0] / us[1]).toFixed(2)} p99 ${med(p99[1])} | B ${rps[2].toFixed(0)}/s ratio ${(rps[2] / rps[0]).toFixed(2)} ${us[2].toFixed(0)}µs cpuRatio ${(us[0] / us[2]).toFixed(2)} p99 ${med(p99[2])}`);
  }
} finally {
  for (const s of servers) { s.child.kill('SIGTERM'); await new Promise((r) => s.child.on('exit', r)); fs.rmSync(s.dataDir, { recursive: true, force: true }); }
}
console.log(`${process.env.DB0 ? 'PostgreSQL' : 'PGlite'} load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}  A=${dirs[0]} B=${dirs[1]}`);
console.log(out.join('\n'));
