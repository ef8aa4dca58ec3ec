import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openEmbedded } from './connect.js';
import { compilePGliteWasm } from './pglite-wasm.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

describe('PGlite WebAssembly compiled ahead of the open', () => {
  it('is the module PGlite runs: the embedded database opens with it and answers', async () => {
    const wasm = compilePGliteWasm();
    const module = await wasm;
    expect(module).toBeInstanceOf(WebAssembly.Module);
    // PGlite's own: the imports its Emscripten loader provides.
    expect(WebAssembly.Module.imports(module!).some((entry) => entry.module === 'env')).toBe(true);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-wasm-'));
    dirs.push(dir);
    const handle = await openEmbedded(dir, { pgliteWasm: wasm });
    try {
      const { rows } = await sql<{ answer: number }>`select 6 * 7 as answer`.execute(handle.db);
      expect(rows).toEqual([{ answer: 42 }]);
    } finally {
      await handle.close();
    }
  });
});
