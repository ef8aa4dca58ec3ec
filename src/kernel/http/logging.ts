import type { LoggerOptions } from 'pino';
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

/** URLs that carry a secret in the path (one-time invitation tokens) are logged without it. */
export function redactUrl(url: string): string {
  return url.replace(/\/invitations\/[^/?]+\/accept/, '/invitations/[redacted]/accept');
}
