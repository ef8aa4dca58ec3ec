#!/usr/bin/env node
// Issue #7: what `coffer run -- true` costs beside `node -e 0`, median of 20 runs each,
// measured in one sitting against the real server (dist/, embedded database), with a CI
// token (the organization found through GET /token) and with COFFER_ORG given.
// Issue #13: the same on a client-managed project (the key unwrapped with Argon2id at the
// default parameters, the value decrypted and references expanded in the CLI).
// node bench/cli-run.mjs (after npm run build)
import { spawnSync } from 'node:child_process';
import { client, seedTree, startServer } from './lib.mjs';
import { DEFAULT_KDF, createProjectKey, deriveKek, encryptValue } from '../dist/cli/client-keys.js';
import { randomBytes } from 'node:crypto';

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
  // A client-managed twin of shop: same place, one value, the passphrase in COFFER_PASSPHRASE.
  const passphrase = 'bench fake passphrase';
  const { key, wrapped } = await createProjectKey(passphrase, null);
  const vault = await call('POST', `/orgs/${org}/projects`, { slug: 'vault', encryption: 'client', client_key: wrapped }, token);
  await call('POST', `/orgs/${org}/projects/vault/environments`, { slug: 'production', type: 'PRODUCTION' }, token);
  await call('POST', `/orgs/${org}/projects/vault/environments/production/services`, { slug: 'backend', kind: 'application' }, token);
  const { organization_id: organizationId } = await call('GET', `/orgs/${org}/projects/vault/key`, undefined, token);
  const value = encryptValue(key, 'hello', { organizationId, projectId: vault.id, scope: { level: 'project' }, key: 'GREETING', version: 1, keyVersion: 1 });
  await call('POST', `/orgs/${org}/projects/vault/variables`, { key: 'GREETING', value }, token);
  const { token: keyed } = await call('POST', `/orgs/${org}/tokens`, { name: 'cli-bench-client', scopes: ['organization:read', 'project:read', 'environment:read', 'service:read', 'secret:read', 'secret:decrypt', 'key:retrieve'] }, token);
  const runClient = ['dist/cli/main.js', 'run', '--path', 'vault/production/backend', '--', 'true'];
  const cases = [
    ['node -e 0', ['-e', '0'], {}],
    ['coffer run -- true (CI token)', run, { COFFER_URL: server.base, COFFER_TOKEN: ci }],
    ['coffer run -- true (COFFER_ORG set)', run, { COFFER_URL: server.base, COFFER_TOKEN: ci, COFFER_ORG: org }],
    ['coffer run, client-managed (COFFER_ORG)', runClient, { COFFER_URL: server.base, COFFER_TOKEN: keyed, COFFER_ORG: org, COFFER_PASSPHRASE: passphrase }],
  ];
  const medians = cases.map(([label, args, env]) => {
    process.stderr.write(`timing ${label} ×${runs}…\n`);
    timed(args, env); // warm the file cache
    return [label, median(Array.from({ length: runs }, () => timed(args, env)))];
  });
  // What the client-managed run spends on Argon2id alone (in-process, same parameters as the CLI's default).
  const derive = [];
  for (let i = 0; i < runs; i += 1) {
    const start = performance.now();
    await deriveKek(passphrase, randomBytes(16), DEFAULT_KDF);
    derive.push(performance.now() - start);
  }
  console.log(`\nMedian of ${runs} runs each:`);
  for (const [label, ms] of medians) console.log(`  ${label.padEnd(36)} ${ms.toFixed(0).padStart(5)} ms   (+${(ms - medians[0][1]).toFixed(0)} ms over node -e 0)`);
  console.log(`  Argon2id alone, in-process (${DEFAULT_KDF.memory_kib} KiB, ${DEFAULT_KDF.iterations} passes, ${DEFAULT_KDF.parallelism} lane): ${median(derive).toFixed(0)} ms`);
  console.log(`  (load average at the end: ${(await import('node:os')).loadavg().map((n) => n.toFixed(1)).join(' ')})`);
} finally {
  await server.stop();
}
