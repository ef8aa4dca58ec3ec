import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureRootKeyMatches } from '../crypto/root-key-check.js';
import { openEmbedded } from './connect.js';
import { installedPGliteVersion, TEMPLATE_META, usableTemplate } from './embedded-template.js';
import { migrateToLatest, migrationNames } from './migrate.js';
import { writeTemplate } from './write-template.js';

/**
 * Issue #16: a first start copies the database `npm run build` made (initdb and every
 * migration) instead of making it again; a template another PGlite made, or one that knows a
 * migration this version does not, is passed over.
 */
let scratch: string;
let template: string;

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-template-'));
  template = path.join(scratch, 'template');
  await writeTemplate(template);
}, 120_000);
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function withMeta(name: string, change: (meta: { pglite: string; migrations: string[] }) => void): string {
  const copy = path.join(scratch, name);
  fs.cpSync(template, copy, { recursive: true });
  const file = path.join(copy, TEMPLATE_META);
  const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as { pglite: string; migrations: string[] };
  change(meta);
  fs.writeFileSync(file, JSON.stringify(meta));
  return copy;
}

describe('the embedded database template', () => {
  it('records the PGlite that made it and every migration it holds', () => {
    const meta = JSON.parse(fs.readFileSync(path.join(template, TEMPLATE_META), 'utf8')) as unknown;
    expect(meta).toEqual({ pglite: installedPGliteVersion(), migrations: migrationNames() });
    expect(usableTemplate(template)).toBe(path.join(template, 'pgdata'));
  });

  it('is the first start of a new data directory: migrated, owner-only, and keeps what is written', async () => {
    const dataDir = path.join(scratch, 'first-start');
    const handle = await openEmbedded(dataDir, { templateDir: template });
    try {
      expect(await migrateToLatest(handle.db)).toEqual([]);
      await ensureRootKeyMatches(handle.db, randomBytes(32));
      handle.recordData?.();
      await handle.db.insertInto('users').values({ email: 'first@example.test', name: 'First', password_hash: 'not-a-hash' }).execute();
    } finally {
      await handle.close();
    }
    expect(fs.statSync(path.join(dataDir, 'pgdata')).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(dataDir)).not.toContain('pgdata.copying');

    const again = await openEmbedded(dataDir, { templateDir: template });
    try {
      const users = await again.db.selectFrom('users').select('email').execute();
      expect(users.map((user) => user.email)).toEqual(['first@example.test']);
    } finally {
      await again.close();
    }
  }, 60_000);

  it('holds no row of any install: no key, no setting, no user', async () => {
    const dataDir = path.join(scratch, 'empty');
    const handle = await openEmbedded(dataDir, { templateDir: template });
    try {
      const counts = await sql<{ settings: number; keys: number; users: number; organizations: number }>`
        select (select count(*) from coffer_settings)::int as settings, (select count(*) from audit_keys)::int as keys,
               (select count(*) from users)::int as users, (select count(*) from organizations)::int as organizations`.execute(handle.db);
      expect(counts.rows[0]).toEqual({ settings: 0, keys: 0, users: 0, organizations: 0 });
    } finally {
      await handle.close();
    }
  }, 60_000);

  it('replaces a copy an interrupted start left behind', async () => {
    const dataDir = path.join(scratch, 'interrupted');
    fs.mkdirSync(path.join(dataDir, 'pgdata.copying'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'pgdata.copying', 'PG_VERSION'), 'half');
    const handle = await openEmbedded(dataDir, { templateDir: template });
    try {
      expect(await migrateToLatest(handle.db)).toEqual([]);
    } finally {
      await handle.close();
    }
    expect(fs.readdirSync(dataDir)).not.toContain('pgdata.copying');
  }, 60_000);

  it('is passed over when another PGlite made it, when it knows a migration this version does not, or is missing', () => {
    expect(usableTemplate(withMeta('other-pglite', (meta) => (meta.pglite = '0.0.1')))).toBeUndefined();
    expect(usableTemplate(withMeta('newer', (meta) => meta.migrations.push('9999_from_a_newer_version')))).toBeUndefined();
    expect(usableTemplate(path.join(scratch, 'nowhere'))).toBeUndefined();
    // An older template (fewer migrations) is used: the start applies the rest.
    const older = withMeta('older', (meta) => meta.migrations.pop());
    expect(usableTemplate(older)).toBe(path.join(older, 'pgdata'));
  });
});
