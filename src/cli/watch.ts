import type { IncomingMessage } from 'node:http';
import { CliError, EXIT, type ApiClient } from './api-client.js';

const MAX_BACKOFF_MS = 10_000;

/**
 * Follows a place's change stream (`…/changes`, Server-Sent Events) until `stop()`: calls
 * `changed` after each burst of events, and once on every (re)connection, since something may
 * have changed while it was away. A dropped connection or an unreachable server (a restart) is
 * retried with exponential backoff, resuming after the last event seen (Last-Event-ID); a
 * refusal (401, 403, 404) ends the watch with that error.
 */
export function followChanges(api: ApiClient, placePath: string, changed: () => Promise<void>, say: (line: string) => void) {
  let lastEventId: string | undefined;
  let stopped = false;
  let current: IncomingMessage | undefined;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) => new Promise<void>((resolve) => ((wake = resolve), setTimeout(resolve, ms)));

  // One check at a time, and one more if events arrived during it: a burst costs two resolutions at most.
  let checking: Promise<void> | undefined;
  let again = false;
  const check = (): void => {
    if (checking) {
      again = true;
      return;
    }
    checking = changed()
      .catch((error: unknown) => say(`could not apply the change: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        checking = undefined;
        if (again && !stopped) {
          again = false;
          check();
        }
      });
  };

  async function readEvents(response: IncomingMessage): Promise<void> {
    let buffer = '';
    response.setEncoding('utf8');
    for await (const chunk of response as AsyncIterable<string>) {
      buffer += chunk;
      let end: number;
      let any = false;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: ?(.*)$/m.exec(block)?.[1];
        if (id !== undefined) {
          lastEventId = id;
          any = true;
        }
      }
      if (any) check();
    }
  }

  const done = (async () => {
    let backoff = 250;
    let connectedOnce = false;
    while (!stopped) {
      try {
        current = await api.stream(`${placePath}/changes`, lastEventId === undefined ? { accept: 'text/event-stream' } : { accept: 'text/event-stream', 'last-event-id': lastEventId });
        if (connectedOnce) say('reconnected to the change stream');
        connectedOnce = true;
        backoff = 250;
        check();
        await readEvents(current);
      } catch (error) {
        if (stopped) break;
        if (error instanceof CliError && error.exitCode !== EXIT.unreachable && error.exitCode !== EXIT.failure) throw error;
      }
      if (stopped) break;
      say(`lost the change stream; reconnecting in ${(backoff / 1000).toFixed(1)} s`);
      await sleep(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  })();

  return {
    done,
    stop() {
      stopped = true;
      current?.destroy();
      wake?.();
    },
  };
}
