import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createPGlite, openPostgres, usePGlite } from '../src/kernel/db/connect.js';
import { migrateToLatest } from '../src/kernel/db/migrate.js';
import { adminStatement, databaseUrl } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    postgresTemplate: string;
  }
}

/**
 * Prepares one migrated template per backend, so no test pays for initdb (≈ 3.5 s and
 * 850 MB on PGlite): PGlite test files load a dumped data directory, PostgreSQL test
 * files clone a template database.
 */
export default async function setup(project: TestProject) {
  if (project.name === 'postgres') return setupPostgres(project);
  project.provide('pgliteTemplate', await pgliteTemplate());
  return undefined;
}

/** The dump is cached under node_modules/.cache, keyed by the migrations' source and the lock file. */
async function pgliteTemplate(): Promise<string> {
  const migrationsDir = path.resolve('src/kernel/db/migrations');
  const hash = createHash('sha256');
  for (const file of fs.readdirSync(migrationsDir).sort()) {
    hash.update(file).update(fs.readFileSync(path.join(migrationsDir, file)));
  }
  hash.update(fs.readFileSync(path.resolve('package-lock.json')));
  const cacheDir = path.resolve('node_modules/.cache/coffer-test');
  const file = path.join(cacheDir, `pglite-${hash.digest('hex').slice(0, 16)}.tar`);
  if (fs.existsSync(file)) return file;

  const pglite = await createPGlite();
  const handle = await usePGlite(pglite);
  await migrateToLatest(handle.db);
  const dump = await pglite.dumpDataDir('none');
  await handle.close();

  fs.mkdirSync(cacheDir, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, Buffer.from(await dump.arrayBuffer()));
  fs.renameSync(temporary, file);
  return file;
}

async function setupPostgres(project: TestProject) {
  const template = `coffer_t${Date.now().toString(36)}${randomBytes(3).toString('hex')}_tpl`;
  await adminStatement(`create database "${template}"`);
  const templateDb = openPostgres(databaseUrl(template), { max: 1 });
  try {
    await migrateToLatest(templateDb.db);
  } finally {
    await templateDb.close();
  }
  project.provide('postgresTemplate', template);
  return () => adminStatement(`drop database if exists "${template}" with (force)`);
}
