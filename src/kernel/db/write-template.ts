import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { createPGlite, usePGlite } from './connect.js';
import { DEFAULT_TEMPLATE_DIR, installedPGliteVersion, TEMPLATE_META, TEMPLATE_PGDATA, type TemplateMeta } from './embedded-template.js';
import { migrateToLatest, migrationNames } from './migrate.js';

/** Writes a template into `templateDir` (replacing one there): initdb, every migration, a checkpoint, closed. */
export async function writeTemplate(templateDir: string = DEFAULT_TEMPLATE_DIR): Promise<void> {
  const building = `${templateDir}.building`;
  fs.rmSync(building, { recursive: true, force: true });
  fs.mkdirSync(building, { recursive: true });
  const handle = await usePGlite(await createPGlite({ dataDir: path.join(building, TEMPLATE_PGDATA) }));
  try {
    await migrateToLatest(handle.db);
    await sql`checkpoint`.execute(handle.db);
  } finally {
    await handle.close();
  }
  const meta: TemplateMeta = { pglite: installedPGliteVersion(), migrations: migrationNames() };
  fs.writeFileSync(path.join(building, TEMPLATE_META), `${JSON.stringify(meta, null, 2)}\n`);
  fs.rmSync(templateDir, { recursive: true, force: true });
  fs.renameSync(building, templateDir);
}
