#!/usr/bin/env node
// Issue 14: `coffer import` of N variables (10,000 by default) from a .env file into one service,
// timed from spawn to exit against the real server (dist/, embedded database): first into an
// empty place (all created), then the same file again (all compared, left alone), then a dry run.
// Then `coffer vars import` (the dotenv importer with a progress bar) of the same file into the
// environment: all created, then all updated (the second run makes them secrets).
// node bench/import.mjs [N]   (after npm run build; DATABASE_URL for PostgreSQL; BENCH_SERVER and
// BENCH_CLI=path/to/cli/main.js run an earlier build's server and CLI, see lib.mjs)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { client, seedTree, startServer } from './lib.mjs';

const cliMain = process.env.BENCH_CLI ?? 'dist/cli/main.js';
const count = Number(process.argv[2] ?? 10_000);
const server = await startServer();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-import-bench-'));

/** utime + stime of the server process, in ms (Linux): what a busy machine's other jobs do not inflate. */
function serverCpuMs() {
  const fields = fs.readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** cutime + cstime of this process, in ms: the CPU of the CLI runs it waited for (Linux). */
function cliCpuMs() {
  const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

function timed(label, args, env) {
  const cpu = serverCpuMs();
  const cliCpu = cliCpuMs();
  const start = performance.now();
  const result = spawnSync(process.execPath, [cliMain, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`coffer ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  const used = (serverCpuMs() - cpu) / 1000;
  const cli = (cliCpuMs() - cliCpu) / 1000;
  console.log(`  ${label.padEnd(40)} ${(ms / 1000).toFixed(2).padStart(6)} s (server CPU ${used.toFixed(2)} s, CLI CPU ${cli.toFixed(2)} s)   ${result.stderr.trim().split('\n').at(-1)}`);
}

try {
  const call = client(server.base);
  const { token, org } = await seedTree(call);
  const file = path.join(dir, 'big.env');
  // Fake values of a realistic length (40 characters), half of them secrets by --secret-keys.
  fs.writeFileSync(file, Array.from({ length: count }, (_, i) => `${i % 2 ? 'SERVICE' : 'API'}_${i}_${i % 2 ? 'URL' : 'KEY'}=fake-value-${String(i).padStart(6, '0')}-${'x'.repeat(22)}\n`).join(''));
  const env = { COFFER_URL: server.base, COFFER_TOKEN: token, COFFER_ORG: org };
  const args = ['import', file, '--from', 'dotenv', '--path', 'shop/production/backend', '--secret-keys', '*_KEY'];
  console.log(`coffer import of ${count} variables (${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${os.loadavg()[0].toFixed(2)}):`);
  timed('into an empty service (all created)', args, env);
  timed('the same file again (all unchanged)', args, env);
  timed('--dry-run of the same file', [...args, '--dry-run'], env);
  // BENCH_VARS_IMPORT=0 leaves it out (an earlier build took minutes: one request per variable).
  if (process.env.BENCH_VARS_IMPORT !== '0') {
    const vars = ['vars', 'import', file, '--path', 'shop/production'];
    timed('vars import into an empty environment', vars, env);
    timed('vars import again --secret (all updated)', [...vars, '--secret'], env);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
  await server.stop();
}
