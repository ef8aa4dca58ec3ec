import { pino, type Logger } from 'pino';
import type { LogLevel } from '../../config.js';
import { loggerOptions } from './logging.js';

/** The part of a writable stream the log output uses (process.stdout in production). */
export interface LogStream {
  write(chunk: string): boolean;
  readonly writableLength: number;
}

/** The server's logger, and a flush that gives up after a while. */
export interface ServerLogger {
  log: Logger;
  /** Resolves true once everything logged so far has been handed to the OS, false after `timeoutMs`. */
  flush(timeoutMs: number): Promise<boolean>;
}

/** What the output may hold while stdout does not take it; past it, lines are dropped and counted. */
const MAX_BUFFERED = 8 * 1024 * 1024;

/**
 * pino writing to stdout without ever blocking the process. pino's own destination writes
 * synchronously and, at exit, flushes in a loop that retries EAGAIN forever: a server whose
 * stdout nobody reads any more then never exits (issue #18). process.stdout writes through
 * the event loop instead; what it cannot take yet waits in memory up to MAX_BUFFERED, and
 * the shutdown waits for it only as long as its deadline allows.
 */
export function createServerLogger(level: LogLevel, out: LogStream = process.stdout): ServerLogger {
  let dropped = 0;
  const destination = {
    write(line: string) {
      if (out.writableLength > MAX_BUFFERED) {
        dropped++;
        return;
      }
      if (dropped > 0) {
        out.write(`${JSON.stringify({ level: 40, time: Date.now(), msg: `${dropped} log lines dropped: stdout did not take them` })}\n`);
        dropped = 0;
      }
      out.write(line);
    },
  };
  return {
    log: pino(loggerOptions(level), destination),
    flush(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      return new Promise((resolve) => {
        // Polled: 'drain' fires only after a write was refused, not whenever the buffer empties.
        const check = () => {
          if (out.writableLength === 0) resolve(true);
          else if (Date.now() >= deadline) resolve(false);
          else setTimeout(check, 20);
        };
        check();
      });
    },
  };
}
