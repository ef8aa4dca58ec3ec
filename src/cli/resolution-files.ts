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
    }
    if (resolution.pg_services.length > 0) {
      const file = path.join(privateDir(), 'pg_service.conf');
      fs.writeFileSync(file, serializePgServiceFile(resolution.pg_services), { mode: 0o600 });
      env.PGSERVICEFILE = file;
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
  };
}
