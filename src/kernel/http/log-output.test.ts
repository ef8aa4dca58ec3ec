import { describe, expect, it } from 'vitest';
import { createServerLogger, type LogStream } from './log-output.js';

/** A stdout that takes writes into its buffer but never sends them on, like a pipe nobody reads. */
function stalledStdout(): LogStream & { chunks: string[]; drain(): void } {
  const chunks: string[] = [];
  let pending = 0;
  return {
    chunks,
    write(chunk: string) {
      chunks.push(chunk);
      pending += chunk.length;
      return false;
    },
    get writableLength() {
      return pending;
    },
    drain() {
      pending = 0;
    },
  };
}

describe('the server log output', () => {
  it('never blocks on a stalled stdout: past 8 MiB waiting it drops lines, then says how many', () => {
    const out = stalledStdout();
    const { log } = createServerLogger('info', out);
    const line = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 200; i++) log.info(line); // 12.5 MiB
    const kept = out.chunks.length;
    expect(kept).toBeLessThan(200);
    out.drain();
    log.info('after');
    expect(out.chunks.at(-2)).toContain(`"msg":"${200 - kept} log lines dropped: stdout did not take them"`);
    expect(out.chunks.at(-1)).toContain('"msg":"after"');
  });

  it('flushes within its time limit, saying whether everything went out', async () => {
    const out = stalledStdout();
    const { log, flush } = createServerLogger('info', out);
    log.info('waiting');
    expect(await flush(50)).toBe(false);
    out.drain();
    expect(await flush(50)).toBe(true);
  });
});
