import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer } from '../harness.js';
import { capturingLogger, fuzz, type FuzzSummary } from './fuzzer.js';

/**
 * The outside review's probe, kept: hostile requests built from the server's own OpenAPI
 * document, a bounded budget here and `npm run fuzz -- --requests N` for a long run.
 * No request may answer 5xx (bad input is a 400 naming the field).
 */
const REQUESTS = Number(process.env.COFFER_FUZZ_REQUESTS ?? 2_500);
const SEED = Number(process.env.COFFER_FUZZ_SEED ?? 18);
const BACKEND = process.env.COFFER_TEST_BACKEND ?? 'pglite';

describe('schema-driven fuzzing', () => {
  let server: TestServer;
  const capture = capturingLogger();

  beforeAll(async () => {
    server = await TestServer.start({}, capture.logger);
  });
  afterAll(async () => {
    await server?.close();
  });

  it(
    `answers none of ${REQUESTS} hostile requests (seed ${SEED}) with a 5xx`,
    async () => {
      const summary = await fuzz(server, { requests: REQUESTS, seed: SEED, backend: BACKEND, causeOf: capture.causeOf });
      const dir = process.env.COFFER_FUZZ_SUMMARY_DIR;
      if (dir) {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, `${BACKEND}.json`), JSON.stringify(summary, null, 2));
      }
      expect(summary.requests).toBe(REQUESTS);
      expect(failuresOf(summary)).toEqual({});
    },
    Math.max(120_000, REQUESTS * 30),
  );
});

/** On failure, the causes and a few requests to replay, rather than a bare count. */
function failuresOf(summary: FuzzSummary) {
  if (summary.failures === 0) return {};
  return { failures: summary.failures, byCause: summary.byCause, examples: summary.examples.slice(0, 10) };
}
