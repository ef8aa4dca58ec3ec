import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminStatement, databaseUrl } from '../../test/postgres.js';
import { fresh, mode, node, start } from '../../test/cli.js';
import { callListening } from '../../test/harness.js';
import { embeddedDirFromTemplate, freePort, startServerProcess, type ServerProcess } from '../../test/processes.js';
import { until } from '../../test/receiver.js';

/**
 * coffer run --watch and export --watch against a real server process, which the tests stop
 * and start again on the same port and data: the watch must carry on by itself.
 */
const postgres = process.env.COFFER_TEST_BACKEND === 'postgres';
let serverEnv: Record<string, string>;
let database: string | undefined;
let port: number;
let server: ServerProcess;
let owner: string;
let ci: string;
let variableId: string;
let fileVariableId: string;
const ENV = '/orgs/watch/projects/shop/environments/production';

async function startServer() {
  server = await startServerProcess({ ...serverEnv, LOG_LEVEL: 'warn', COFFER_CHANGE_POLL_MS: '50' }, { readStdout: true, port });
}

beforeAll(async () => {
  if (postgres) {
    database = `${inject('postgresTemplate').replace(/_tpl$/, '')}_watch_${randomBytes(4).toString('hex')}`;
    await adminStatement(`create database "${database}" template "${inject('postgresTemplate')}"`);
    serverEnv = { DATABASE_URL: databaseUrl(database), COFFER_ROOT_KEY: randomBytes(32).toString('base64') };
  } else {
    const dataDir = fresh('watch-data');
    await embeddedDirFromTemplate(dataDir);
    serverEnv = { COFFER_DATA_DIR: dataDir };
  }
  port = await freePort();
  await startServer();
  const call = (method: string, url: string, body?: unknown) => callListening(server.url, method, url, body, owner);
  await callListening(server.url, 'POST', '/auth/signup', { email: 'watch@example.test', password: 'correct horse battery staple', name: 'w' });
  owner = (await callListening(server.url, 'POST', '/auth/login', { email: 'watch@example.test', password: 'correct horse battery staple' })).token as string;
  await call('POST', '/orgs', { slug: 'watch' });
  await call('POST', '/orgs/watch/projects', { slug: 'shop' });
  await call('POST', '/orgs/watch/projects/shop/environments', { slug: 'production', type: 'PRODUCTION' });
  variableId = (await call('POST', `${ENV}/variables`, { key: 'GREETING', value: 'hello-1' })).id as string;
  fileVariableId = (await call('POST', `${ENV}/variables`, { key: 'CONFIG_FILE', type: 'file', value: 'file-1', mount_path: '/etc/app.conf' })).id as string;
  ci = (await call('POST', '/orgs/watch/tokens', { name: 'watcher', preset: 'ci' })).token as string;
}, 180_000);

afterAll(async () => {
  server?.child.kill('SIGKILL');
  await server?.exited;
  if (database) await adminStatement(`drop database if exists "${database}" with (force)`);
});

const setValue = (id: string, value: string) => callListening(server.url, 'PATCH', `${ENV}/variables/${id}`, { value }, owner);
const options = { token: () => ci, env: () => ({ COFFER_URL: server.url, COFFER_ORG: 'watch' }) };
const lines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

describe('coffer run --watch', () => {
  it('restarts the command with the new value, and carries on after the server restarts', async () => {
    const out = fresh('run-out');
    // Each start appends "pid value"; SIGTERM ends it cleanly.
    const script = `require('fs').appendFileSync(${JSON.stringify(out)}, process.pid + ' ' + process.env.GREETING + '\\n'); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);`;
    const run = start(['run', '--watch', '--grace-period', '5', '--path', 'shop/production', '--', ...node(script)], { token: options.token(), env: options.env() });
    await until('the first start', () => lines(out).some((line) => line.endsWith(' hello-1')));
    await setValue(variableId, 'hello-2');
    await until('a restart with hello-2', () => lines(out).some((line) => line.endsWith(' hello-2')));

    server.child.kill('SIGTERM');
    await server.exited;
    await startServer();
    await setValue(variableId, 'hello-3');
    await until('a restart with hello-3 after the server restarted', () => lines(out).some((line) => line.endsWith(' hello-3')));
    const pids = lines(out).map((line) => line.split(' ')[0]);
    expect(new Set(pids).size).toBe(pids.length);

    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('restarted the command');
  }, 120_000);

  it('with --on-change signal:HUP rewrites the files in place and signals the same process', async () => {
    const out = fresh('hup-out');
    const script = `const fs = require('fs'); const report = () => fs.appendFileSync(${JSON.stringify(out)}, process.pid + ' ' + fs.readFileSync(process.env.CONFIG_FILE, 'utf8') + '\\n'); report(); process.on('SIGHUP', report); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);`;
    const run = start(['run', '--watch', '--on-change', 'signal:HUP', '--path', 'shop/production', '--', ...node(script)], { token: options.token(), env: options.env() });
    await until('the first report', () => lines(out).some((line) => line.endsWith(' file-1')));
    await setValue(fileVariableId, 'file-2');
    await until('the report after SIGHUP', () => lines(out).some((line) => line.endsWith(' file-2')));
    expect(new Set(lines(out).map((line) => line.split(' ')[0])).size).toBe(1);
    run.child.kill('SIGTERM');
    expect((await run.done).code).toBe(0);
  }, 120_000);
});

describe('coffer export --watch', () => {
  it('rewrites the file atomically (mode 0600) on every change', async () => {
    const file = path.join(fresh('export-dir'), 'app.json');
    fs.mkdirSync(path.dirname(file));
    const run = start(['export', '--watch', '--path', 'shop/production', '--format', 'env-json', '-o', file], { token: options.token(), env: options.env() });
    const read = () => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>) : {});
    await until('the first export', () => read().GREETING !== undefined);
    await setValue(variableId, 'hello-exported');
    await until('the rewritten export', () => read().GREETING === 'hello-exported');
    expect(mode(file)).toBe(0o600);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['app.json']);
    run.child.kill('SIGTERM');
    expect((await run.done).code).toBe(0);
  }, 120_000);

  it('refuses --watch without -o', async () => {
    const result = await start(['export', '--watch', '--path', 'shop/production'], { token: options.token(), env: options.env() }).done;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--watch needs -o FILE');
  });
});
