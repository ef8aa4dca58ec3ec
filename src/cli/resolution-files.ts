import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Resolution } from '../modules/variables/formats.js';
import { serializePgServiceFile } from '../modules/variables/pg-service.js';

/**
 * Turns a resolution into a child process's environment: `file` variables become files in a
 * private directory (0700, files 0600) with the variable set to the file's path, and
 * `pg_service` entries one pg_service.conf named by PGSERVICEFILE. `remove` deletes it all.
 */
export function materialize(resolution: Resolution, base: NodeJS.ProcessEnv) {
  const env: NodeJS.ProcessEnv = { ...base };
  const written = new Map<string, string>(); // file variable or pg_service.conf → its path
  let dir: string | undefined;
  const privateDir = () => (dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-run-')));
  const remove = () => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (const variable of resolution.variables) {
      if (variable.type !== 'file') {
        env[variable.key] = variable.value;
        continue;
      }
      // Each file in its own directory, under the name its mount path gives it (extensions matter to programs).
      const holder = path.join(privateDir(), variable.key);
      fs.mkdirSync(holder, { mode: 0o700 });
      const file = path.join(holder, path.basename(variable.mount_path ?? variable.key));
      fs.writeFileSync(file, variable.value, { mode: 0o600 });
      env[variable.key] = file;
      written.set(variable.key, file);
    }
    if (resolution.pg_services.length > 0) {
      const file = path.join(privateDir(), 'pg_service.conf');
      fs.writeFileSync(file, serializePgServiceFile(resolution.pg_services), { mode: 0o600 });
      env.PGSERVICEFILE = file;
      written.set('PGSERVICEFILE', file);
    }
  } catch (error) {
    // Whatever was written before the failure (a full disk, an odd name) holds secrets: gone too.
    remove();
    throw error;
  }

  return {
    env,
    get dir() {
      return dir;
    },
    remove,
    /**
     * `coffer run --watch --on-change signal:…`: the running command keeps its environment, so
     * only the files it was given can change; each is replaced atomically (temp + rename) at the
     * path it already knows. Answers what a signal cannot deliver (changed plain variables).
     */
    rewrite(next: Resolution): string[] {
      const stale: string[] = [];
      for (const variable of next.variables) {
        const file = written.get(variable.key);
        if (file) replaceFile(file, variable.value);
        else if (variable.type === 'file' || env[variable.key] !== variable.value) stale.push(variable.key);
      }
      const pgFile = written.get('PGSERVICEFILE');
      if (pgFile) replaceFile(pgFile, serializePgServiceFile(next.pg_services));
      return stale;
    },
  };
}

/** Writes `file` whole or not at all: a reader sees the old content or the new, never half. */
export function replaceFile(file: string, content: string): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.writeFileSync(temporary, content, { mode: 0o600, flag: 'wx' });
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}
