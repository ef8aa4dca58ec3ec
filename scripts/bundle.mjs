#!/usr/bin/env node
// The server bundled, dist/bundle/server.js and a few chunks (issue #16): `node dist/main.js`
// loads it in place of the ~1,400 files tsc and node_modules make, most of the time to /readyz.
// tsc's dist/ stays what tests and the CLI import; dist/main.js takes the bundle only while it
// is at least as new as tsc's last build (src/load-server.ts), so a stale bundle never runs.
// Run by `npm run build` and `npm start`; `node scripts/bundle.mjs` on its own.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE_DIR = path.join(ROOT, 'dist/bundle');

/**
 * Left to Node, loaded from node_modules as before: PGlite reads its .wasm and .data beside its
 * own module; argon2 and fs-native-extensions are native addons; pg and openid-client are
 * loaded only when needed (PostgreSQL, OIDC sign-in); pino, for its worker-thread transports.
 */
const EXTERNAL = ['@electric-sql/pglite', '@node-rs/argon2', 'fs-native-extensions', 'pg', 'openid-client', 'pino'];

export async function bundleServer() {
  // No chunk of an earlier build left behind.
  fs.rmSync(BUNDLE_DIR, { recursive: true, force: true });
  await build({
    // The embedded database's thread (src/kernel/db/pglite-thread.ts) starts pglite-worker.js
    // from beside the module that starts it: in the bundle, beside the chunks.
    entryPoints: { server: path.join(ROOT, 'src/server.ts'), 'pglite-worker': path.join(ROOT, 'src/kernel/db/pglite-worker.js') },
    outdir: BUNDLE_DIR,
    bundle: true,
    // server.js, and the chunks it imports later: the HTTP app loads while PGlite opens (src/server.ts).
    splitting: true,
    chunkNames: 'chunk-[hash]',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    // Not keepNames: it wraps every function made at run time in a defineProperty of its name,
    // closures made per request included (6–7 % of a GET /me's CPU in a profile). Unminified, a
    // function keeps its source name unless esbuild renamed it for a clash (`Reply2`), which only
    // a stack trace shows; nothing in the server reads a function's name.
    keepNames: false,
    sourcemap: true,
    logLevel: 'warning',
    // CommonJS dependencies call require(); an ES module has none of its own.
    banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bundleServer();
