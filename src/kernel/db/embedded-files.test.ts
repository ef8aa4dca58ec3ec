import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { ensureRootKeyMatches } from '../crypto/root-key-check.js';
import { createPGlite, openEmbedded } from './connect.js';
import { EmbeddedDatabaseError } from './embedded-files.js';

/**
 * Issue #18 items 1 and 3: a damaged or emptied embedded database is refused with one
 * sentence naming the damage and the way to restore, and no file is touched.
 */
let scratch: string;
let used: string;

/** A data directory loaded from the migrated template, then opened once as a server would (root key check, lock history). */
async function makeUsedDir(dir: string, options: { withKeyFile: boolean; withCheck: boolean }) {
  fs.mkdirSync(dir, { mode: 0o700 });
  const loader = await createPGlite({ dataDir: path.join(dir, 'pgdata'), loadDataDir: new Blob([fs.readFileSync(inject('pgliteTemplate'))]) });
  await loader.waitReady;
  await loader.close();
  const key = randomBytes(32);
  if (options.withCheck) {
    const handle = await openEmbedded(dir);
    await ensureRootKeyMatches(handle.db, key);
    handle.recordData?.();
    await handle.close();
  }
  if (options.withKeyFile) fs.writeFileSync(path.join(dir, 'root.key'), `${key.toString('base64')}\n`, { mode: 0o600 });
}

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-damage-'));
  used = path.join(scratch, 'used');
  await makeUsedDir(used, { withKeyFile: true, withCheck: true });
}, 120_000);
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
/**
 * A copy of the used directory; `linked` hard-links its files (fast, for cases refused before
 * PGlite opens anything: their damage only removes links, never writes into a shared file).
 */
function copyOfUsed(linked = true): { dir: string; pgdata: string } {
  const dir = path.join(scratch, `case-${++counter}`);
  if (!linked) fs.cpSync(used, dir, { recursive: true });
  else {
    for (const entry of fs.readdirSync(used, { recursive: true, withFileTypes: true })) {
      const target = path.join(dir, path.relative(used, path.join(entry.parentPath, entry.name)));
      fs.mkdirSync(path.dirname(target), { recursive: true });
      if (entry.isDirectory()) fs.mkdirSync(target, { recursive: true });
      // The lock file is rewritten in place at every open: a copy of its own.
      else if (entry.name === 'coffer.lock') fs.copyFileSync(path.join(entry.parentPath, entry.name), target);
      else fs.linkSync(path.join(entry.parentPath, entry.name), target);
    }
  }
  return { dir, pgdata: path.join(dir, 'pgdata') };
}

/** Every file under `dir` with its size and modification time: what "touch nothing" is checked against. */
function snapshot(dir: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    if (entry.name === 'coffer.lock') continue; // the lock's own record changes by design
    const stat = fs.statSync(full);
    result[path.relative(dir, full)] = stat.isDirectory() ? 'dir' : `${stat.size}@${stat.mtimeMs}`;
  }
  return result;
}

/** `opened`: the damage shows only once PGlite has opened the files, so only their names must stay. */
async function refusal(dir: string, opened = false): Promise<EmbeddedDatabaseError> {
  const names = (files: Record<string, string>) => Object.keys(files).sort();
  const before = snapshot(dir);
  const error = await openEmbedded(dir).then(
    async (handle) => {
      await handle.close();
      throw new Error('the damaged database was opened');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(EmbeddedDatabaseError);
  expect((error as Error).message).toContain('see "Backup and restore" in the README');
  if (opened) expect(names(snapshot(dir))).toEqual(names(before));
  else expect(snapshot(dir)).toEqual(before);
  return error as EmbeddedDatabaseError;
}

describe('a damaged embedded database', () => {
  it('refuses a database whose PG_VERSION was removed instead of creating an empty one over it', async () => {
    const { dir, pgdata } = copyOfUsed();
    fs.rmSync(path.join(pgdata, 'PG_VERSION'));
    expect((await refusal(dir)).message).toContain(`${pgdata} holds files but no PG_VERSION`);
  });

  it('refuses an emptied pgdata beside an existing root.key', async () => {
    const { dir, pgdata } = copyOfUsed();
    fs.rmSync(pgdata, { recursive: true });
    fs.mkdirSync(pgdata);
    expect((await refusal(dir)).message).toMatch(new RegExp(`is empty, but .*root\\.key exists`));
  });

  it('refuses a missing pgdata when only the lock file remembers a database', async () => {
    const { dir } = copyOfUsed();
    fs.rmSync(path.join(dir, 'pgdata'), { recursive: true });
    fs.rmSync(path.join(dir, 'root.key'));
    expect((await refusal(dir)).message).toMatch(/is missing, but .*coffer\.lock records a Coffer database here since/);
  });

  it('names an emptied pg_wal', async () => {
    const { dir, pgdata } = copyOfUsed();
    for (const name of fs.readdirSync(path.join(pgdata, 'pg_wal'))) fs.rmSync(path.join(pgdata, 'pg_wal', name), { recursive: true });
    expect((await refusal(dir)).message).toContain(`${path.join(pgdata, 'pg_wal')} holds no write-ahead log file`);
  });

  it('names a pgdata that is a file', async () => {
    const { dir, pgdata } = copyOfUsed();
    fs.rmSync(pgdata, { recursive: true });
    fs.writeFileSync(pgdata, 'not a database');
    expect((await refusal(dir)).message).toContain(`${pgdata} is a file, not the embedded database's directory`);
  });

  it('names a zeroed pg_control', async () => {
    const { dir, pgdata } = copyOfUsed();
    fs.rmSync(path.join(pgdata, 'global', 'pg_control'));
    fs.writeFileSync(path.join(pgdata, 'global', 'pg_control'), Buffer.alloc(8192));
    expect((await refusal(dir)).message).toContain(`${path.join(pgdata, 'global', 'pg_control')}, the database's control file, is zeroed`);
  });

  it('says in one sentence that the files are damaged when PGlite cannot open them', async () => {
    const { dir, pgdata } = copyOfUsed(false);
    const control = path.join(pgdata, 'global', 'pg_control');
    const bytes = fs.readFileSync(control);
    bytes.fill(0xff, 64, 128); // breaks its checksum
    fs.writeFileSync(control, bytes);
    const error = await openEmbedded(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EmbeddedDatabaseError);
    expect((error as Error).message).toMatch(/^The embedded database in .* could not be opened \(PGlite: .*\): its files are damaged\. Restore it from a backup/);
  });

  it('refuses a database without the root key check beside a root.key', async () => {
    const dir = path.join(scratch, 'no-check');
    await makeUsedDir(dir, { withKeyFile: true, withCheck: false });
    expect((await refusal(dir, true)).message).toContain("holds a database without Coffer's root key check");
  });
});
