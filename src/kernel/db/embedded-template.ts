import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrationNames } from './migrate.js';

/**
 * A new embedded database made at build time instead of at the first start (issue #16).
 * PGlite's initdb takes 3.5–5 s of CPU and the migrations more, every first start; the
 * template is that same work done once by `npm run build` (scripts/embedded-template.mjs):
 * a closed, migrated data directory that a first start copies (~0.2 s) and then opens like
 * any existing database. It holds the schema and nothing else: no key, no row, no setting
 * of any install (keys are made at the first start, as before).
 *
 * A template is used only when it was made by the PGlite installed now and knows no
 * migration this version does not (meta.json says which); the migrations it lacks are applied
 * at start like on any older database. Otherwise, or without a template, initdb as before.
 */

/** dist/embedded-template, next to the compiled server: this file is dist/kernel/db/…, or part of the bundle in dist/bundle/. */
const MODULE_DIR = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_TEMPLATE_DIR = path.resolve(MODULE_DIR, path.basename(MODULE_DIR) === 'bundle' ? '../embedded-template' : '../../embedded-template');

export const TEMPLATE_META = 'meta.json';
export const TEMPLATE_PGDATA = 'pgdata';

export interface TemplateMeta {
  pglite: string;
  migrations: string[];
}

/** The installed PGlite's version: a data directory is only safe to open with the PGlite that wrote it. */
export function installedPGliteVersion(): string {
  // The entry point is …/pglite/dist/index.cjs: the package's own package.json is some levels up.
  for (let dir = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (manifest.name === '@electric-sql/pglite' && manifest.version) return manifest.version;
  }
  throw new Error("Cannot find @electric-sql/pglite's package.json");
}

/** The template's data directory, or undefined when there is none this version may use. */
export function usableTemplate(templateDir: string = DEFAULT_TEMPLATE_DIR): string | undefined {
  let meta: TemplateMeta;
  let pglite: string;
  try {
    meta = JSON.parse(fs.readFileSync(path.join(templateDir, TEMPLATE_META), 'utf8')) as TemplateMeta;
    pglite = installedPGliteVersion();
  } catch {
    return undefined; // no template, or nothing to compare it with: initdb, as without one
  }
  const known = new Set(migrationNames());
  if (meta.pglite !== pglite || !Array.isArray(meta.migrations) || !meta.migrations.every((name) => known.has(name))) {
    return undefined;
  }
  const pgdata = path.join(templateDir, TEMPLATE_PGDATA);
  return fs.existsSync(path.join(pgdata, 'PG_VERSION')) ? pgdata : undefined;
}

/**
 * Places a copy of the template at `pgdata` (which must not exist): copied beside it, then
 * renamed, so an interrupted copy never leaves a half database where the next start would
 * find one. Answers whether it did; false means there is no usable template (initdb then).
 */
export function placeTemplate(pgdata: string, templateDir?: string): boolean {
  const template = usableTemplate(templateDir);
  if (!template) return false;
  const copying = `${pgdata}.copying`;
  // A copy an earlier start left unfinished (the caller holds the data directory's lock).
  fs.rmSync(copying, { recursive: true, force: true });
  fs.cpSync(template, copying, { recursive: true });
  // PostgreSQL's own rule for a data directory: its owner only.
  fs.chmodSync(copying, 0o700);
  if (fs.existsSync(pgdata)) fs.rmdirSync(pgdata); // an empty directory (inspectPgdata said 'new'): replaced
  fs.renameSync(copying, pgdata);
  return true;
}
