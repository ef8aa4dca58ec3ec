#!/usr/bin/env node
// Summarises a V8 CPU profile of the server (BENCH_CPU_PROF=dir node bench/resolve.mjs writes
// one): self time grouped by where it runs (Fastify, pino, Coffer, pg, PGlite, GC, idle, socket
// writes…) and the top self-time frames. `--last=S` keeps only the last S seconds (the load
// phase: with BENCH_VAULT=0 the resolve measurement is the last thing before the server stops).
//   node bench/profile.mjs /tmp/prof/CPU.*.cpuprofile --last=7 [--top=25]
import fs from 'node:fs';

const file = process.argv.find((arg) => arg.endsWith('.cpuprofile'));
if (!file) {
  console.error('usage: node bench/profile.mjs PROFILE.cpuprofile [--last=SECONDS] [--top=N]');
  process.exit(2);
}
const option = (name, fallback) => Number(process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const from = option('last', 0) > 0 ? profile.endTime - option('last', 0) * 1e6 : -Infinity;

function groupOf({ functionName, url }) {
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return 'V8 (program)';
  if (['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String'].includes(functionName)) return 'socket writes';
  if (/pglite/.test(url) || url.startsWith('wasm')) return 'PGlite';
  if (/node_modules\/(pg|pg-pool|pg-protocol)\//.test(url)) return 'pg driver';
  if (/node_modules\/kysely\//.test(url)) return 'Kysely';
  if (/pino/.test(url)) return 'pino';
  if (/fastify|find-my-way|avvio/.test(url)) return 'Fastify';
  if (/node_modules\//.test(url)) return 'other packages';
  if (/\/dist\//.test(url)) return 'Coffer';
  return 'Node core and native';
}
const frameOf = ({ functionName, url, lineNumber }) =>
  `${functionName || '(anonymous)'} ${url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, 'dist/')}:${lineNumber + 1}`;

const groups = new Map();
const frames = new Map();
let total = 0;
let time = profile.startTime;
profile.samples.forEach((id, index) => {
  const delta = profile.timeDeltas[index] ?? 0;
  time += delta;
  if (time < from) return;
  const { callFrame } = nodes.get(id);
  total += delta;
  groups.set(groupOf(callFrame), (groups.get(groupOf(callFrame)) ?? 0) + delta);
  frames.set(frameOf(callFrame), (frames.get(frameOf(callFrame)) ?? 0) + delta);
});
const share = (value) => `${((100 * value) / total).toFixed(1).padStart(5)} %`;
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
for (const [group, value] of [...groups].sort((a, b) => b[1] - a[1])) console.log(`${share(value)}  ${group}`);
console.log('top frames (self time):');
for (const [frame, value] of [...frames].sort((a, b) => b[1] - a[1]).slice(0, option('top', 25))) console.log(`${share(value)}  ${frame}`);
