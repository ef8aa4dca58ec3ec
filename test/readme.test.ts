import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist, embeddedDirFromTemplate, ROOT, startServerProcess, type ServerProcess } from './processes.js';

/**
 * The README runs as written (issue #11): every ```sh block from "## A walk through" up to
 * "## Development" is run, in order, as one `bash -e -o pipefail` script against a fresh server
 * (the built dist on a new embedded database, on a free port); the only change made to the
 * blocks is that port in place of 8080. `coffer` is on PATH as after `npm install -g`, and a
 * ~/.curlrc makes curl fail on an HTTP error (`--fail-with-body`), so an example the server
 * refuses fails the test instead of printing an error and carrying on.
 */
const README = path.join(ROOT, 'README.md');
const START = '## A walk through';
const END = '## Development';

interface Block {
  line: number;
  text: string;
}

/** The ```sh blocks between START and END, de-indented (a block inside a list item is indented). */
function walkThroughBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const from = lines.findIndex((line) => line.startsWith(START));
  const to = lines.findIndex((line, index) => index > from && line.startsWith(END));
  if (from < 0 || to < 0) throw new Error(`README.md needs the headings "${START}" and "${END}"`);
  const blocks: Block[] = [];
  for (let index = from; index < to; index++) {
    const fence = /^\s*```(\S*)/.exec(lines[index]!);
    if (!fence) continue;
    // A block in another language would silently not run: only sh (run) and shell (said not to run) are allowed.
    if (fence[1] !== 'sh' && fence[1] !== 'shell') throw new Error(`README.md line ${index + 1}: a \`\`\`${fence[1]} block in the walk-through; use sh (run by this test) or shell (not run)`);
    const open = /^(\s*)```sh\s*$/.exec(lines[index]!);
    if (!open) {
      while (++index < to && !/^\s*```\s*$/.test(lines[index]!));
      continue;
    }
    const indent = open[1]!.length;
    const body: string[] = [];
    let end = index + 1;
    while (end < to && !/^\s*```\s*$/.test(lines[end]!)) body.push(lines[end++]!.slice(indent));
    if (end >= to) throw new Error(`README.md line ${index + 1}: a \`\`\`sh block that does not close`);
    blocks.push({ line: index + 1, text: body.join('\n') });
    index = end;
  }
  return blocks;
}

let server: ServerProcess | undefined;
let work: string;

beforeAll(async () => {
  buildDist();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-readme-'));
  const dataDir = path.join(work, 'data');
  await embeddedDirFromTemplate(dataDir);
  server = await startServerProcess({ COFFER_DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, { readStdout: true });
}, 180_000);

afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('README', () => {
  it('runs every shell block of the walk-through, in order, against a fresh server', async () => {
    const blocks = walkThroughBlocks(fs.readFileSync(README, 'utf8'));
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const port = new URL(server!.url).port;

    const home = path.join(work, 'home');
    const bin = path.join(work, 'bin');
    const cwd = path.join(work, 'cwd');
    for (const dir of [home, bin, cwd]) fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(home, '.curlrc'), 'fail-with-body\nshow-error\n');
    fs.writeFileSync(path.join(bin, 'coffer'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'dist/cli/main.js')}" "$@"\n`, { mode: 0o755 });

    // Each block announces itself on stderr, so a failure names the block that failed.
    const script = blocks
      .map((block, index) => `echo '@@ block ${index + 1} (README.md line ${block.line})' >&2\n${block.text.replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`)}\n`)
      .join('\n');
    fs.writeFileSync(path.join(work, 'walk-through.sh'), script);

    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('bash', ['-e', '-o', 'pipefail', path.join(work, 'walk-through.sh')], {
        cwd,
        env: { PATH: `${bin}:${path.dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: home, LANG: 'C.UTF-8' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });

    if (result.code !== 0) {
      const failed = [...result.stderr.matchAll(/@@ block (\d+)/g)].pop()?.[1];
      const block = failed ? blocks[Number(failed) - 1] : undefined;
      throw new Error(
        `The README walk-through failed (exit ${result.code}) in block ${failed} at README.md line ${block?.line}:\n${block?.text}\n\n` +
          `stderr:\n${result.stderr.slice(-4000)}\nstdout:\n${result.stdout.slice(-4000)}`,
      );
    }
    expect(result.stderr).toContain(`@@ block ${blocks.length} `);
    // What the walk-through says its steps print, they print.
    expect(result.stdout).toContain('Signature Verified Successfully');
    expect(result.stdout).toContain('LOG_LEVEL=info, certificate in /');
    expect(result.stdout).toContain('-----BEGIN CERTIFICATE-----');
    expect(result.stdout).toMatch(/DATABASE_URL='postgres:\/\/app:s3cret-passw0rd@db\.internal\/app'/);
    expect(result.stdout).toMatch(/^OK: \d+ events verified, extending 1 signed checkpoints$/m);
    expect(result.stdout).toMatch(/^\[maps\]$/m); // the pg_service.conf resolved through the API
    expect(result.stderr).toContain('This API token was revoked on'); // the revoked CI token, told so
    expect(result.stdout).toContain('refused (exit 3)');
    expect(result.stdout).toContain("export COFFER_APPLICATION_BACKEND_URL='https://backend.internal'"); // the CI token's export
    expect(result.stdout).toMatch(/^ALLOWED: grace@example\.com may secret:write on shop\/staging/m);
  }, 200_000);
});
