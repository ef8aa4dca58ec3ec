import { describe, expect, it } from 'vitest';
import { redactUrl } from './logging.js';

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
