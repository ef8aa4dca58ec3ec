import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LoggerOptions } from 'pino';
import type { LogLevel } from '../../config.js';

/**
 * pino options for the server: credentials, cookies, passwords and any `value` field
 * are redacted wherever they appear; invitation tokens are cut out of logged URLs.
 */
export function loggerOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-csrf-token"]',
        'res.headers["set-cookie"]',
        'password',
        'token',
        'value',
        '*.password',
        '*.token',
        '*.value',
        // Driver errors carry the statement's parameters, which may be secrets or hashes.
        'err.params',
        'err.parameters',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (request: { method: string; url: string; ip?: string; id?: string }) => ({
        method: request.method,
        url: redactUrl(request.url),
        ip: request.ip,
      }),
    },
  };
}

/** A query parameter name as our routes spell them; anything else may be a pasted secret. */
const PARAMETER_NAME = /^[a-z][a-z0-9_]{0,31}$/;

/**
 * URLs are logged without secrets: the one-time token of an invitation path is cut out, and
 * every query value is replaced (`?format=[redacted]&member=[redacted]`), since a caller may
 * put a token or a value there; parameter names stay, unless they do not look like one.
 */
export function redactUrl(url: string): string {
  const question = url.indexOf('?');
  const path = (question === -1 ? url : url.slice(0, question)).replace(/\/invitations\/[^/]+\/accept/, '/invitations/[redacted]/accept');
  if (question === -1) return path;
  const parameters = url
    .slice(question + 1)
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const name = part.split('=', 1)[0]!;
      return `${PARAMETER_NAME.test(name) ? name : '[redacted]'}=[redacted]`;
    });
  return `${path}?${parameters.join('&')}`;
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type Parent = FastifyBaseLogger & { isLevelEnabled?(level: string): boolean };

/**
 * Fastify's per-request logger (bound to the request id), made only when the request logs:
 * pino's child() serialises its bindings through redaction, a few per cent of the CPU of a
 * warm read that logs nothing. A call at a level the parent has off does nothing, as pino's
 * own no-op would; anything else (a log line, child(), a level change) makes the real child.
 */
class LazyRequestLogger implements FastifyBaseLogger {
  #child: FastifyBaseLogger | undefined;
  readonly #parent: Parent;
  readonly #bindings: Bindings;

  constructor(parent: Parent, bindings: Bindings) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  #real(): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings));
  }

  #log(level: Level, args: unknown[]): void {
    if (this.#child === undefined && !this.#parent.isLevelEnabled!(level)) return;
    const real = this.#real();
    (real[level] as (...rest: unknown[]) => void).apply(real, args);
  }

  get level(): string {
    return this.#child?.level ?? this.#parent.level;
  }
  set level(level: string) {
    this.#real().level = level;
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }
  fatal(...args: unknown[]): void {
    this.#log('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#log('error', args);
  }
  warn(...args: unknown[]): void {
    this.#log('warn', args);
  }
  info(...args: unknown[]): void {
    this.#log('info', args);
  }
  debug(...args: unknown[]): void {
    this.#log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#log('trace', args);
  }
  silent(): void {}
}

/** Fastify's childLoggerFactory: lazy for a pino parent with no per-route options, pino's child otherwise. */
export function lazyChildLogger(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  const pinoLike = typeof (parent as Parent).isLevelEnabled === 'function';
  if (!pinoLike || options.level !== undefined || options.serializers !== undefined) return parent.child(bindings, options);
  return new LazyRequestLogger(parent as Parent, bindings);
}
