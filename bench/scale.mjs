#!/usr/bin/env node
// Issue #16, "Scale": does a request cost more in a large organization? Two organizations in
// one database, measured in the same run: a small one (one project, one member) and a large
// one (1,000 projects × 4 environments × 5 services, 10,000 members, a third of them on 100
// custom roles of 20 projects each, 100,000 variables). Both get the same hot service (300
// variables over four scopes, written through the batch endpoint), a CI token and a member
// on a custom role; then, per organization: resolve of that service (warm, and the first
// after a write), POST authz/check and the member's project list (first page), and the
// server's RSS. Target: every latency within 1.5× of the small organization's.
//
// The bulk goes in directly (the server stopped) through the app's own code: the projects
// tree and memberships with Kysely, custom roles with the roles repo, variables sealed by
// the keyring's data keys and the app's seal/valueAad, inserted by the variables repo.
//
//   npm run build && node bench/scale.mjs          (PGlite, or DATABASE_URL if set)
//   node bench/scale.mjs --pg                      (a fresh PostgreSQL database, dropped after unless BENCH_KEEP_DB=1)
// BENCH_KEEP_DB=1 keeps the PGlite directory too (for EXPLAIN), and prints where.
// BENCH_SCALE=0.1 seeds a tenth of everything (a quick try).
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { client, measure, printTable, recordLimit, recordRow, startServer } from './lib.mjs';

const factor = Number(process.env.BENCH_SCALE ?? 1);
const LARGE = { projects: Math.round(1000 * factor), members: Math.round(10_000 * factor), roles: 100, variables: Math.round(100_000 * factor) };
const ENV_TYPES = ['DEVELOPMENT', 'PREVIEW', 'STAGING', 'PRODUCTION'];
const SERVICES_PER_ENV = 5;
const PASSWORD = 'correct horse battery staple';
const SLICE = 1000;

const adminUrl = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
let createdDatabase;
if (process.argv.includes('--pg')) {
  createdDatabase = `coffer_scale_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create database ${createdDatabase}`);
  const url = new URL(adminUrl);
  url.pathname = `/${createdDatabase}`;
  process.env.DATABASE_URL = url.toString();
}
const backend = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
// The seeding below seals values under the same root key the server uses.
process.env.COFFER_ROOT_KEY ??= randomBytes(32).toString('base64');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-scale-'));

async function adminQuery(text) {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const pad = (n, width) => String(n).padStart(width, '0');

/** The hot path of an organization: shop/production/backend, its four scopes' variable URLs. */
const scopes = (org) => [
  `/orgs/${org}/variables`,
  `/orgs/${org}/projects/shop/variables`,
  `/orgs/${org}/projects/shop/environments/production/variables`,
  `/orgs/${org}/projects/shop/environments/production/services/backend/variables`,
];

/** Over HTTP: owner, organization, shop/production/backend with 300 variables (one batch per scope), a CI token. */
async function seedOverApi(call) {
  const org = `scale-${randomBytes(3).toString('hex')}`;
  const email = `${org}@example.test`;
  await call('POST', '/auth/signup', { email, password: PASSWORD, name: 'Owner' });
  const { token } = await call('POST', '/auth/login', { email, password: PASSWORD });
  await call('POST', '/orgs', { slug: org }, token);
  await call('POST', `/orgs/${org}/projects`, { slug: 'shop' }, token);
  await call('POST', `/orgs/${org}/projects/shop/environments`, { slug: 'production', type: 'PRODUCTION' }, token);
  await call('POST', `/orgs/${org}/projects/shop/environments/production/services`, { slug: 'backend', kind: 'application' }, token);
  for (const [level, url] of scopes(org).entries()) {
    const variables = Array.from({ length: 75 }, (_, i) => ({ key: `HOT_${level}_${i}`, type: i % 3 === 0 ? 'secret' : 'plain', value: `value-${i}-${'x'.repeat(40)}` }));
    await call('POST', `${url}/batch`, { variables }, token);
  }
  const { token: ci } = await call('POST', `/orgs/${org}/tokens`, { name: 'ci', preset: 'ci' }, token);
  return { org, token, ci, member: `member-${org}@example.test` };
}

/**
 * Directly in the database: `projects` more projects (4 environments × 5 services each,
 * `variables` variables spread over their services), `members` members (every third on one
 * of `roles` custom roles of 20 projects), and the member the bench signs in as, on a
 * custom role over shop and 19 projects spread over the list (its first page needs them all).
 */
async function seedDirectly(db, keyring, createVariablesRepo, createRolesRepo, seal, valueAad, target, size) {
  const organization = await db.selectFrom('organizations').select('id').where('slug', '=', target.org).executeTakeFirstOrThrow();
  const orgId = organization.id;
  const owner = await db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.password_hash'])
    .where('m.organization_id', '=', orgId)
    .where('m.role', '=', 'OWNER')
    .executeTakeFirstOrThrow();
  const shop = await db.selectFrom('projects').select('id').where('organization_id', '=', orgId).where('slug', '=', 'shop').executeTakeFirstOrThrow();

  const insertAll = async (table, rows, returning) => {
    const out = [];
    for (let at = 0; at < rows.length; at += SLICE) {
      const query = db.insertInto(table).values(rows.slice(at, at + SLICE));
      if (returning) out.push(...(await query.returning(returning).execute()));
      else await query.execute();
    }
    return out;
  };

  const projects = await insertAll(
    'projects',
    Array.from({ length: size.projects }, (_, i) => ({ organization_id: orgId, slug: `p${pad(i, 4)}`, name: `Project ${i}` })),
    ['id', 'slug'],
  );
  const environments = await insertAll(
    'environments',
    projects.flatMap((project) => ENV_TYPES.map((type) => ({ project_id: project.id, slug: type.toLowerCase(), name: type.toLowerCase(), type }))),
    ['id', 'project_id'],
  );
  const services = await insertAll(
    'services',
    environments.flatMap((environment) => Array.from({ length: SERVICES_PER_ENV }, (_, i) => ({ environment_id: environment.id, slug: `svc${i}`, name: `svc${i}`, kind: 'application' }))),
    ['id', 'environment_id'],
  );
  const projectOfEnvironment = new Map(environments.map((e) => [e.id, e.project_id]));

  // Variables: sealed exactly as a write seals them (per-project data key, AAD of id and version 1).
  const keys = new Map();
  for (const project of projects) keys.set(project.id, await keyring.forOwner(db, orgId, project.id));
  const variablesRepo = createVariablesRepo(db);
  const rows = [];
  for (let i = 0; i < size.variables && services.length > 0; i++) {
    const service = services[i % services.length];
    const projectId = projectOfEnvironment.get(service.environment_id);
    const key = keys.get(projectId);
    const id = randomUUID();
    const type = i % 3 === 0 ? 'secret' : 'plain';
    rows.push({
      id,
      place: { level: 'service', organizationId: orgId, projectId, environmentId: service.environment_id, serviceId: service.id },
      assignee_user_id: null,
      type,
      name: `BULK_${i}`,
      mount_path: null,
      immutable: false,
      data_key_id: key.id,
      ciphertext: seal(key.key, `bulk-value-${i}-${'y'.repeat(30)}`, valueAad(id, 1)),
    });
  }
  for (let at = 0; at < rows.length; at += SLICE) {
    const slice = rows.slice(at, at + SLICE);
    await variablesRepo.insertMany(slice);
    await db
      .insertInto('variable_versions')
      .values(slice.map((row) => ({ variable_id: row.id, version: 1, operation: 'CREATE', type: row.type, mount_path: null, ciphertext: row.ciphertext, rolled_back_from: null, actor_type: 'user', actor_id: owner.id, actor_name: 'Owner' })))
      .execute();
  }

  // Custom roles: 20 projects each, spread over the list; role 0 (the signed-in member's) holds shop too.
  const rolesRepo = createRolesRepo(db);
  const levels = ['VIEWER', 'DEPLOYER', 'MANAGER', 'NO_ACCESS'];
  const roles = [];
  for (let r = 0; r < size.roles; r++) {
    const role = await rolesRepo.insert({ organization_id: orgId, name: `role ${r}`, description: '' });
    const picked = projects.length === 0 ? [] : Array.from({ length: Math.min(20, projects.length) }, (_, k) => projects[(r + k * Math.floor(projects.length / 20 || 1)) % projects.length].id);
    const entries = [...new Set(r === 0 ? [shop.id, ...picked.slice(0, 19)] : picked)].map((projectId, k) => ({
      project_id: projectId,
      is_admin: false,
      levels: Object.fromEntries(ENV_TYPES.map((type, j) => [type, projectId === shop.id ? 'DEPLOYER' : levels[(k + j) % 4]])),
    }));
    await rolesRepo.replaceLists(role.id, { clusters: [], projects: entries, environments: [] });
    roles.push(role);
  }

  // Members: the one the bench signs in as (role 0), then the others; every third on a custom role.
  const systemRoles = ['MEMBER', 'DEVELOPER', 'VIEWER', 'DEVOPS'];
  const users = await insertAll(
    'users',
    Array.from({ length: size.members }, (_, i) => ({ email: i === 0 ? target.member : `m${pad(i, 5)}-${target.org}@example.test`, name: `Member ${i}`, password_hash: owner.password_hash })),
    ['id'],
  );
  await insertAll(
    'memberships',
    users.map((user, i) => (i % 3 === 0 ? { organization_id: orgId, user_id: user.id, role: 'CUSTOM', role_id: roles[(i / 3) % roles.length].id } : { organization_id: orgId, user_id: user.id, role: systemRoles[i % 4], role_id: null })),
  );
  return { projects: projects.length, environments: environments.length, services: services.length, variables: rows.length, members: users.length, roles: roles.length };
}

async function timed(call) {
  const start = performance.now();
  await call();
  return performance.now() - start;
}

/** The latencies of one organization: medians of sequential requests (one client), and p99 under 10 connections. */
async function measureOrg(server, call, target, label) {
  const base = `${server.base}/api/v1`;
  const { token: member } = await call('POST', '/auth/login', { email: target.member, password: PASSWORD });
  const resolveUrl = `${base}/orgs/${target.org}/projects/shop/environments/production/services/backend/resolve`;
  const checkUrl = `${base}/orgs/${target.org}/authz/check`;
  const checkBody = { action: 'secret:read', resource: 'shop/production/backend' };
  const listUrl = `${base}/orgs/${target.org}/projects`;
  const get = (url, token) => async () => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    const body = await response.arrayBuffer();
    if (!response.ok) throw new Error(`${url}: ${response.status} ${Buffer.from(body).toString()}`);
    return body;
  };
  const check = async () => {
    const response = await fetch(checkUrl, { method: 'POST', headers: { authorization: `Bearer ${member}`, 'content-type': 'application/json' }, body: JSON.stringify(checkBody) });
    const answer = await response.json();
    if (!response.ok || answer.allowed !== true) throw new Error(`authz/check: ${response.status} ${JSON.stringify(answer)}`);
  };
  const page = await (await get(listUrl, member)()).byteLength;
  const listed = JSON.parse(Buffer.from(await get(listUrl, member)()).toString());
  const samples = async (fn, n = 60) => {
    for (let i = 0; i < 5; i++) await fn(); // warm
    const out = [];
    for (let i = 0; i < n; i++) out.push(await timed(fn));
    return median(out);
  };
  const result = {
    resolveWarm: await samples(get(resolveUrl, target.ci)),
    resolveAfterWrite: median(
      await (async () => {
        const out = [];
        for (let i = 0; i < 15; i++) {
          await call('POST', `${scopes(target.org)[3]}/batch`, { variables: [{ key: 'WRITTEN', value: `written-${label}-${i}` }] }, target.token);
          out.push(await timed(get(resolveUrl, target.ci)));
        }
        return out;
      })(),
    ),
    check: await samples(check),
    projects: await samples(get(listUrl, member)),
    listedProjects: listed.items?.length ?? listed.data?.length,
    pageBytes: page,
  };
  const loaded = {
    resolve: await measure(`resolve @10 (${label})`, resolveUrl, target.ci, { seconds: 3 }),
    check: await measure(`authz/check @10 (${label})`, checkUrl, member, { seconds: 3, body: checkBody }),
    projects: await measure(`projects page @10 (${label})`, listUrl, member, { seconds: 3 }),
  };
  return { ...result, loaded };
}

function memoryOf(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(status.match(new RegExp(`${name}:\\s+(\\d+) kB`))?.[1] ?? NaN) / 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

let server;
try {
  const started = performance.now();
  server = await startServer({ dataDir });
  let call = client(server.base);
  process.stderr.write('seeding both organizations over HTTP (300 variables each)…\n');
  const small = await seedOverApi(call);
  const large = await seedOverApi(call);
  const apiMs = performance.now() - started;
  await server.stop();
  server = undefined;

  process.stderr.write(`seeding the large organization directly (${JSON.stringify(LARGE)})…\n`);
  const directStart = performance.now();
  const { openDatabase } = await import('../dist/kernel/db/connect.js');
  const { createKeyring } = await import('../dist/kernel/crypto/keyring.js');
  const { LocalKeyProvider } = await import('../dist/kernel/crypto/key-provider.js');
  const { decodeRootKey } = await import('../dist/kernel/crypto/root-key.js');
  const { seal, valueAad } = await import('../dist/kernel/crypto/aead.js');
  const { createVariablesRepo } = await import('../dist/modules/variables/repo.js');
  const { createRolesRepo } = await import('../dist/modules/roles/repo.js');
  const handle = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir });
  const keyring = createKeyring({ db: handle.db, provider: new LocalKeyProvider(decodeRootKey(process.env.COFFER_ROOT_KEY, 'COFFER_ROOT_KEY')) });
  let seeded;
  try {
    await seedDirectly(handle.db, keyring, createVariablesRepo, createRolesRepo, seal, valueAad, small, { projects: 0, members: 1, roles: 1, variables: 0 });
    seeded = await handle.db.transaction().execute((tx) => seedDirectly(tx, keyring, createVariablesRepo, createRolesRepo, seal, valueAad, large, LARGE));
    // PostgreSQL's autovacuum would analyze the new rows soon; the embedded database has no
    // autovacuum, so by default it is measured as a server would run it (BENCH_ANALYZE=1: analyzed).
    if (handle.backend === 'postgres' || process.env.BENCH_ANALYZE === '1') await import('kysely').then(({ sql }) => sql`analyze`.execute(handle.db));
  } finally {
    await handle.close();
  }
  const directMs = performance.now() - directStart;

  const restart = performance.now();
  server = await startServer({ dataDir });
  const restartMs = performance.now() - restart;
  call = client(server.base);
  const idle = memoryOf(server.pid);
  // Two alternating rounds, the better of each: a burst of load from elsewhere on the machine then hits both alike.
  const rounds = [];
  for (let round = 0; round < 2; round++) rounds.push({ small: await measureOrg(server, call, small, 'small'), large: await measureOrg(server, call, large, 'large') });
  const better = (a, b) => ({ ...a, ...Object.fromEntries(['resolveWarm', 'resolveAfterWrite', 'check', 'projects'].map((key) => [key, Math.min(a[key], b[key])])) });
  const results = { small: better(rounds[0].small, rounds[1].small), large: better(rounds[0].large, rounds[1].large) };
  const memory = memoryOf(server.pid);

  console.log(
    `\nScale bench — ${backend}, ${new Date().toISOString().slice(0, 16)}Z, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, load ${os.loadavg()[0].toFixed(1)}\n` +
      `large organization: ${seeded.projects + 1} projects, ${seeded.environments + 1} environments, ${seeded.services + 1} services, ${seeded.members + 1} members (${seeded.roles} custom roles), ${seeded.variables + 300} variables\n` +
      `seeding: ${seconds(apiMs)} over HTTP (both organizations' hot paths), ${seconds(directMs)} directly; restart to /readyz ${seconds(restartMs)}`,
  );
  console.log(['latency (median, one client)'.padEnd(40), 'small ms'.padStart(9), 'large ms'.padStart(9), 'large/small'.padStart(12), '  p99 @10 small/large'].join(' '));
  const rows = [
    ['resolve 300 variables, warm (CI token)', 'resolveWarm', 'resolve'],
    ['resolve, first after a write', 'resolveAfterWrite', null],
    ['POST authz/check (custom-role member)', 'check', 'check'],
    [`projects, first page (member)`, 'projects', 'projects'],
  ];
  for (const [title, key, loadedKey] of rows) {
    const s = results.small[key];
    const l = results.large[key];
    const p99 = loadedKey ? `${results.small.loaded[loadedKey].p99} / ${results.large.loaded[loadedKey].p99}` : '';
    console.log([title.padEnd(40), s.toFixed(1).padStart(9), l.toFixed(1).padStart(9), (l / s).toFixed(2).padStart(12), `  ${p99}`].join(' '));
    // As a ratio the table judges (≥ target): small over large, at least 1/1.5.
    recordRow({ path: `scale: ${title}, small/large latency (${backend})`, reqs: loadedKey ? results.large.loaded[loadedKey].rps : 0, ratio: s / l, target: 0.67 });
  }
  console.log(`member's first page: ${results.small.listedProjects} projects (small), ${results.large.listedProjects} (large)`);
  console.log(`server RSS: ${idle.rss.toFixed(0)} MB after the restart, ${memory.rss.toFixed(0)} MB after the measurements, peak ${memory.peak.toFixed(0)} MB`);
  recordLimit({ path: `scale: server RSS, peak (${backend})`, value: memory.peak, unit: 'MB', max: backend === 'PostgreSQL' ? 400 : null });
  printTable();
} finally {
  await server?.stop();
  // BENCH_KEEP_DB=1 keeps the database for EXPLAIN: PostgreSQL's (drop it yourself), or PGlite's directory (and its root key).
  if (!createdDatabase && process.env.BENCH_KEEP_DB === '1') console.log(`kept ${dataDir} (COFFER_ROOT_KEY=${process.env.COFFER_ROOT_KEY}; rm -r it when done)`);
  else fs.rmSync(dataDir, { recursive: true, force: true });
  if (createdDatabase && process.env.BENCH_KEEP_DB === '1') console.log(`kept ${process.env.DATABASE_URL} (drop database ${createdDatabase} when done)`);
  else if (createdDatabase) await adminQuery(`drop database if exists ${createdDatabase} with (force)`);
}
