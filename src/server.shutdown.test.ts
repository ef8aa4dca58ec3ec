import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist, embeddedDirFromTemplate, exitWithin, startServerProcess, type ServerProcess } from '../test/processes.js';

/**
 * Issue #18 item 25: servers sent SIGTERM under load never exited, stuck in the logger's
 * synchronous flush retrying a write to a stdout nobody read any more.
 */
let scratch: string;
const servers: ServerProcess[] = [];

beforeAll(() => {
  buildDist();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-shutdown-'));
}, 180_000);
afterAll(() => {
  for (const server of servers) server.child.kill('SIGKILL');
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('the server process on SIGTERM', () => {
  it('exits although nobody reads its stdout or stderr after 2,000 logged requests', async () => {
    await embeddedDirFromTemplate(path.join(scratch, 'data'));
    const server = await startServerProcess(
      { COFFER_DATA_DIR: path.join(scratch, 'data'), LOG_LEVEL: 'info', COFFER_SHUTDOWN_TIMEOUT: '5' },
      { unreadStderr: true },
    );
    servers.push(server);
    let sent = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (sent < 2000) {
          sent++;
          await (await fetch(`${server.url}/healthz`)).arrayBuffer();
        }
      }),
    );
    server.child.kill('SIGTERM');
    // Generous: the deadline is 5 s; this only tells "exited" from "hangs forever".
    expect(await exitWithin(server, 45_000)).not.toBe('still running');
  }, 120_000);

  it('exits at COFFER_SHUTDOWN_TIMEOUT while a request is still arriving, saying what it waited for', async () => {
    await embeddedDirFromTemplate(path.join(scratch, 'slow'));
    const server = await startServerProcess({ COFFER_DATA_DIR: path.join(scratch, 'slow'), COFFER_SHUTDOWN_TIMEOUT: '2' }, { readStdout: true });
    servers.push(server);
    // A client that never finishes its request keeps the HTTP server from closing.
    const { port } = new URL(server.url);
    const slow = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => slow.once('connect', resolve));
    slow.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    try {
      server.child.kill('SIGTERM');
      expect(await exitWithin(server, 45_000)).toEqual({ code: 1, signal: null });
      expect(server.stderr()).toContain('Shutdown did not finish within 2 s (COFFER_SHUTDOWN_TIMEOUT): exiting anyway while waiting for requests in flight');
    } finally {
      slow.destroy();
    }
  }, 120_000);
});
