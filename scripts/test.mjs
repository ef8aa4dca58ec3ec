#!/usr/bin/env node
// `npm test`: runs the whole Vitest suite (PGlite always, PostgreSQL when reachable) and
// closes with one plain "N passed, N failed" line per backend and in total.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const report = path.resolve('node_modules/.cache/coffer-test/report.json');
fs.mkdirSync(path.dirname(report), { recursive: true });
fs.rmSync(report, { force: true });

const vitest = path.resolve('node_modules/vitest/vitest.mjs');
const result = spawnSync(
  process.execPath,
  [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);

if (fs.existsSync(report)) {
  const { testResults } = JSON.parse(fs.readFileSync(report, 'utf8'));
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const file of testResults) {
    for (const test of file.assertionResults) {
      if (test.status === 'passed') passed++;
      else if (test.status === 'failed') failed++;
      else skipped++;
    }
  }
  console.log(`\nTests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
}
process.exit(result.status ?? 1);
