import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyChildLogger, loggerOptions, redactUrl } from './logging.js';

describe('redactUrl', () => {
  it('keeps a path without a query as it is', () => {
    expect(redactUrl('/api/v1/orgs/acme/projects')).toBe('/api/v1/orgs/acme/projects');
  });

  it('replaces every query value and keeps the parameter names', () => {
    expect(redactUrl('/api/v1/x/resolve?format=dotenv&member=abc&flag')).toBe('/api/v1/x/resolve?format=[redacted]&member=[redacted]&flag=[redacted]');
  });

  it('hides a parameter name that does not look like one (a secret pasted as a name)', () => {
    expect(redactUrl('/api/v1/me?cfs_S3cr3tSessionTokenForTests=&limit=5')).toBe('/api/v1/me?[redacted]=[redacted]&limit=[redacted]');
  });

  it('cuts the one-time token out of an invitation path, with or without a query', () => {
    expect(redactUrl('/api/v1/invitations/cfi_abc/accept')).toBe('/api/v1/invitations/[redacted]/accept');
    expect(redactUrl('/api/v1/invitations/cfi_abc/accept?x=cfi_abc')).toBe('/api/v1/invitations/[redacted]/accept?x=[redacted]');
  });
});

describe('lazyChildLogger (the per-request logger)', () => {
  function server(level: 'warn' | 'info') {
    const lines: Record<string, unknown>[] = [];
    const log = pino(loggerOptions(level), { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    return { log, lines };
  }

  it('writes nothing at a level the server has off, and a line bound to the request with redaction at one it has on', () => {
    const { log, lines } = server('warn');
    const request = lazyChildLogger(log, { reqId: 'r-1' }, {});
    request.info({ password: 'hunter2' }, 'incoming request');
    request.debug('details');
    expect(lines).toEqual([]);
    request.error({ password: 'hunter2', value: 's3cret' }, 'unhandled error');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, reqId: 'r-1', msg: 'unhandled error', password: '[redacted]', value: '[redacted]' });
    expect(JSON.stringify(lines)).not.toContain('hunter2');
    expect(JSON.stringify(lines)).not.toContain('s3cret');
  });

  it('follows the server level, and children and level changes behave as pino children do', () => {
    const { log, lines } = server('info');
    const request = lazyChildLogger(log, { reqId: 'r-2' }, {});
    expect(request.level).toBe('info');
    request.info('completed');
    request.child({ step: 'inner' }).warn('inside');
    request.level = 'error';
    request.warn('dropped');
    expect(lines.map((line) => [line.msg, line.reqId, line.step])).toEqual([
      ['completed', 'r-2', undefined],
      ['inside', 'r-2', 'inner'],
    ]);
  });
});
