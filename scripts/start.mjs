#!/usr/bin/env node
// `npm start`: rebuilds dist/ (the server, its bundle, and the web console into dist/web) only
// when a source file is newer than the last build, then runs the server in this process (so signals
// reach it directly).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildWebIfStale } from './web-build.mjs';

const buildInfo = path.resolve('dist/.tsbuildinfo');

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

const built = fs.existsSync(buildInfo) ? fs.statSync(buildInfo).mtimeMs : 0;
if (newestSource(path.resolve('src')) > built) {
  console.error('building…');
  const tsc = spawnSync(process.execPath, [path.resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}
// The bundled server dist/main.js prefers (src/load-server.ts), after every tsc build.
const bundled = fs.statSync(path.resolve('dist/bundle/server.js'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
if (bundled < fs.statSync(buildInfo).mtimeMs) {
  try {
    // Imported only here: esbuild is needed to build, not to start.
    const { bundleServer } = await import('./bundle.mjs');
    await bundleServer();
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}

try {
  buildWebIfStale();
} catch (error) {
  console.error(error.message);
  process.exit(1);
}

await import(path.resolve('dist/main.js'));
