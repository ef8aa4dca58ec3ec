import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callListening } from '../../test/harness.js';
import { embeddedDirFromTemplate } from '../../test/processes.js';
import { loadConfig } from '../config.js';
import { runServer, type RunningServer } from '../server.js';
import { backupCommand, restoreCommand } from './backup-command.js';

/**
 * Issue #18 item 4: `coffer admin backup` while the server serves (through its control
 * socket) and without one, `coffer admin restore` into an empty data directory, and the
 * restored server's audit chain verifies.
 */
const silent = pino({ level: 'silent' });
const PASSWORD = 'correct horse battery staple';
let scratch: string;
let source: RunningServer | undefined;
let token: string;
const org = 'backed-up';

const config = (dir: string, extra: Record<string, string> = {}) =>
  loadConfig({ PORT: '0', COFFER_DATA_DIR: path.join(scratch, dir), ...extra });

function capture() {
  const lines: string[] = [];
  return { lines, print: (line: string) => lines.push(line) };
}

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-backup-'));
  await embeddedDirFromTemplate(path.join(scratch, 'source'));
  source = await runServer(config('source'), silent);
  await callListening(source.address, 'POST', '/auth/signup', { email: 'backup@example.test', password: PASSWORD, name: 'b' });
  token = (await callListening(source.address, 'POST', '/auth/login', { email: 'backup@example.test', password: PASSWORD })).token as string;
  await callListening(source.address, 'POST', '/orgs', { slug: org }, token);
}, 120_000);
afterAll(async () => {
  await source?.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

const write = (address: string, key: string) =>
  callListening(address, 'POST', `/orgs/${org}/variables`, { key, type: 'secret', value: `s3cr3t-value-for-tests-${key}` }, token);

describe('coffer admin backup and restore (embedded database)', () => {
  it('backs up while the server serves writes, restores into a fresh directory, and the restored server verifies its audit chain', async () => {
    for (let i = 0; i < 5; i++) await write(source!.address, `BEFORE_${i}`);
    // Writes keep arriving while the copy is taken: the backup holds each one whole or not at all.
    const during = Promise.all(Array.from({ length: 20 }, (_, i) => write(source!.address, `DURING_${i}`)));
    const file = path.join(scratch, 'coffer.tar.gz');
    const backup = capture();
    await backupCommand(config('source'), file, backup.print);
    await during;
    expect(backup.lines[0]).toMatch(/^Backed up embedded PGlite in .* from the running server to .*coffer\.tar\.gz/);
    expect(backup.lines.join('\n')).toContain('The backup does not contain the root key');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    // Only the data directory's owner may ask the server for a copy.
    expect(fs.statSync(path.join(scratch, 'source', 'coffer.sock')).mode & 0o777).toBe(0o600);

    // The operator kept root.key apart from the backup and puts it back beside the restored data.
    fs.mkdirSync(path.join(scratch, 'restored'), { mode: 0o700 });
    fs.copyFileSync(path.join(scratch, 'source', 'root.key'), path.join(scratch, 'restored', 'root.key'));
    fs.chmodSync(path.join(scratch, 'restored', 'root.key'), 0o600);
    const restore = capture();
    await restoreCommand(config('restored'), file, restore.print);
    expect(restore.lines.join('\n')).toContain('opens the restored data: Coffer can start');

    const restored = await runServer(config('restored'), silent);
    try {
      const login = await callListening(restored.address, 'POST', '/auth/login', { email: 'backup@example.test', password: PASSWORD });
      const again = login.token as string;
      expect(await callListening(restored.address, 'GET', `/orgs/${org}/audit-events/verify`, undefined, again)).toMatchObject({ ok: true });
      const listed = (await callListening(restored.address, 'GET', `/orgs/${org}/variables`, undefined, again)) as { items?: { key: string }[] };
      const keys = (listed.items ?? []).map((item) => item.key);
      for (let i = 0; i < 5; i++) expect(keys).toContain(`BEFORE_${i}`);
    } finally {
      await restored.close();
    }
  }, 120_000);

  it('reminds that the root key is not in the backup when none is in place, and refuses a directory holding data', async () => {
    const file = path.join(scratch, 'second.tar.gz');
    await backupCommand(config('source'), file, () => {});
    const restore = capture();
    await restoreCommand(config('keyless'), file, restore.print);
    expect(restore.lines.join('\n')).toContain('The backup does not contain the root key: before starting Coffer, put the root.key');
    await expect(restoreCommand(config('keyless'), file, () => {})).rejects.toThrow(/restored only into an empty data directory, and .*pgdata is not empty/);
  }, 120_000);

  it('says when the root key in place does not open the backup', async () => {
    const file = path.join(scratch, 'third.tar.gz');
    await backupCommand(config('source'), file, () => {});
    await expect(restoreCommand(config('other-key', { COFFER_ROOT_KEY: randomBytes(32).toString('base64') }), file, () => {})).rejects.toThrow(
      /the root key in COFFER_ROOT_KEY is not the one this backup was made under/,
    );
  }, 120_000);

  it('backs up with no server running by opening the directory itself', async () => {
    await source!.close();
    source = undefined;
    const backup = capture();
    await backupCommand(config('source'), path.join(scratch, 'offline.tar.gz'), backup.print);
    expect(backup.lines[0]).toContain('with no server running');
  }, 120_000);

  it('refuses on PostgreSQL and names the tools to use', async () => {
    await expect(backupCommand(config('x', { DATABASE_URL: 'postgres://coffer@db.invalid/coffer' }), 'f', () => {})).rejects.toThrow(/pg_dump/);
  });
});
