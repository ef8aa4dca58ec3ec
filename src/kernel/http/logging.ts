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
