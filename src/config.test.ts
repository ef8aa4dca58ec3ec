import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { thrown } from '../test/unit.js';
import { ConfigError, loadConfig, usesEmbeddedDatabase } from './config.js';

describe('loadConfig', () => {
  it('defaults to port 8080 on the embedded database in ./data with open sign-up', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8080, databaseUrl: undefined, signup: 'open', logLevel: 'info' });
    expect(config.dataDir).toBe(path.resolve('data'));
    expect(config.sessionTtlSeconds).toBe(12 * 3600);
  });

  it('reads every documented variable', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const config = loadConfig({
      PORT: '9000',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://coffer@db:5432/coffer',
      COFFER_DATA_DIR: '/var/lib/coffer',
      COFFER_ROOT_KEY: key,
      LOG_LEVEL: 'debug',
      COFFER_SIGNUP: 'closed',
    });
    expect(config).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      databaseUrl: 'postgres://coffer@db:5432/coffer',
      dataDir: '/var/lib/coffer',
      logLevel: 'debug',
      signup: 'closed',
    });
    expect(config.rootKey).toEqual(Buffer.alloc(32, 7));
  });

  it('reports every bad value at once, each with the variable name and how to fix it', () => {
    const bad = { PORT: 'eighty', LOG_LEVEL: 'loud', COFFER_SIGNUP: 'maybe', DATABASE_URL: 'mysql://x', COFFER_ROOT_KEY: 'c2hvcnQ=' };
    const { problems } = thrown(() => loadConfig(bad), ConfigError);
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/PORT must be a whole number from 0 to 65535 \(got "eighty"\)/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL must be one of/);
    expect(problems.join('\n')).toMatch(/COFFER_SIGNUP must be one of open, closed/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL must be a postgres:\/\//);
    expect(problems.join('\n')).toMatch(/COFFER_ROOT_KEY must be 32 bytes encoded as base64 \(generate one with/);
  });

  it('reads COFFER_DNS_SERVERS as a list of ip[:port], refusing anything else', () => {
    expect(loadConfig({}).dnsServers).toBeUndefined();
    expect(loadConfig({ COFFER_DNS_SERVERS: '127.0.0.1:5353, 10.0.0.2,[::1]:53' }).dnsServers).toEqual(['127.0.0.1:5353', '10.0.0.2', '[::1]:53']);
    const { problems } = thrown(() => loadConfig({ COFFER_DNS_SERVERS: 'dns.example.com' }), ConfigError);
    expect(problems).toEqual(['COFFER_DNS_SERVERS must be comma-separated IP addresses, each with an optional :port (got "dns.example.com")']);
  });

  it('never echoes the root key in its message', () => {
    const secretish = Buffer.alloc(31, 9).toString('base64');
    expect(() => loadConfig({ COFFER_ROOT_KEY: secretish })).toThrow(ConfigError);
    try {
      loadConfig({ COFFER_ROOT_KEY: secretish });
    } catch (error) {
      expect((error as Error).message).not.toContain(secretish);
    }
  });

  it('limits sign-up, login and invitation acceptance per address and per email, each configurable', () => {
    expect(loadConfig({}).rateLimits).toEqual({
      signup: { perIp: 10, perEmail: 5, windowSeconds: 3600 },
      login: { perIp: 50, perEmail: 10, windowSeconds: 900 },
      invitationAccept: { perIp: 20, perEmail: 10, windowSeconds: 3600 },
    });
    const config = loadConfig({ COFFER_LOGIN_LIMIT_PER_EMAIL: '5', COFFER_SIGNUP_LIMIT_WINDOW_SECONDS: '60', COFFER_INVITATION_ACCEPT_LIMIT_PER_IP: '7' });
    expect(config.rateLimits.login.perEmail).toBe(5);
    expect(config.rateLimits.signup.windowSeconds).toBe(60);
    expect(config.rateLimits.invitationAccept.perIp).toBe(7);
    expect(() => loadConfig({ COFFER_LOGIN_LIMIT_PER_IP: '0' })).toThrow(/COFFER_LOGIN_LIMIT_PER_IP must be a whole number from 1/);
  });

  it('tells the embedded database from PostgreSQL before the whole configuration is read, as loadConfig does', () => {
    for (const env of [{}, { DATABASE_URL: '' }, { DATABASE_URL: '  ' }]) {
      expect(usesEmbeddedDatabase(env)).toBe(true);
      expect(loadConfig(env).databaseUrl).toBeUndefined();
    }
    expect(usesEmbeddedDatabase({ DATABASE_URL: ' postgres://db/coffer ' })).toBe(false);
  });

  it('bounds the shutdown at COFFER_SHUTDOWN_TIMEOUT seconds, 10 by default', () => {
    expect(loadConfig({}).shutdownTimeoutSeconds).toBe(10);
    expect(loadConfig({ COFFER_SHUTDOWN_TIMEOUT: '30' }).shutdownTimeoutSeconds).toBe(30);
    expect(() => loadConfig({ COFFER_SHUTDOWN_TIMEOUT: '0' })).toThrow(/COFFER_SHUTDOWN_TIMEOUT must be a whole number from 1 to 3600 \(got "0"\)/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: ' ' })).toMatchObject({ port: 8080, databaseUrl: undefined });
  });
});
