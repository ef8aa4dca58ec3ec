// The console's build (Vite, into dist/web), run when its sources are newer than the last
// build: by `npm start` and by the browser tests, as tsc is for the server.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILT = path.join(ROOT, 'dist/web/index.html');
const SOURCES = ['web/src', 'web/public', 'web/index.html', 'web/vite.config.ts', 'package-lock.json'];

function newest(file) {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...fs.readdirSync(file).map((name) => newest(path.join(file, name))));
}

/** Whether dist/web is missing or older than a source of the console. */
export function webIsStale() {
  const built = fs.statSync(BUILT, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  return Math.max(...SOURCES.map((source) => newest(path.join(ROOT, source)))) > built;
}

/** Builds the console unless dist/web is up to date; throws when Vite fails. */
export function buildWebIfStale({ quiet = false } = {}) {
  if (!webIsStale()) return false;
  if (!quiet) console.error('building the web console…');
  const vite = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: quiet ? 'pipe' : 'inherit',
    encoding: 'utf8',
  });
  if (vite.status !== 0) throw new Error(`the web console did not build (vite exited ${vite.status}): ${vite.stderr ?? ''}`);
  return true;
}
