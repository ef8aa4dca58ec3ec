import path from 'node:path';

/** Every setting Coffer reads, validated once at start. */
export interface Config {
  port: number;
  host: string;
  /** PostgreSQL connection string; when absent Coffer runs on embedded PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** 32-byte root key (base64 in COFFER_ROOT_KEY); absent means "use or create the key file". */
  rootKey: Buffer | undefined;
  logLevel: LogLevel;
  signup: 'open' | 'closed';
  /** Absolute session lifetime and idle timeout, in seconds. */
  sessionTtlSeconds: number;
  sessionIdleSeconds: number;
  /** Where the server writes signed audit checkpoints hourly, outside the database; none when unset. */
  checkpointDir: string | undefined;
  /** Trust X-Forwarded-* from a reverse proxy (needed for client IPs and Secure cookies behind TLS). */
  trustProxy: boolean;
  /** After SIGTERM/SIGINT, the process exits at the latest this long after, whatever is still pending. */
  shutdownTimeoutSeconds: number;
  /** Attempts allowed per client IP and per email in each window (counted in the database, across instances). */
  rateLimits: { signup: AttemptLimitConfig; login: AttemptLimitConfig; invitationAccept: AttemptLimitConfig };
  /** Webhook deliveries (COFFER_WEBHOOK_*): see modules/webhooks/worker.ts and destination.ts. */
  webhooks: { allowPrivate: boolean; pollMs: number; retryBaseMs: number; maxAttempts: number; disableAfter: number; timeoutMs: number };
  /** How often an open change stream (…/changes) looks for new changes. */
  changePollMs: number;
  /** DNS servers (ip or ip:port) for SSO domain verification (COFFER_DNS_SERVERS, comma-separated); the system's when unset. */
  dnsServers?: string[] | undefined;
}

export interface AttemptLimitConfig {
  perIp: number;
  perEmail: number;
  windowSeconds: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Thrown with every problem found, so an operator fixes them all in one go. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** A variable's value, trimmed; unset, empty and blank are all unset. */
function readVariable(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Does this environment name no PostgreSQL (DATABASE_URL), so the server runs on the embedded database? */
export function usesEmbeddedDatabase(env: Env = process.env): boolean {
  return readVariable(env, 'DATABASE_URL') === undefined;
}

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const read = (name: string): string | undefined => readVariable(env, name);

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };

  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
      return fallback;
    }
    return raw as T;
  };

  const databaseUrl = read('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL; unset it to use the embedded database');
  }

  let rootKey: Buffer | undefined;
  const rawRootKey = read('COFFER_ROOT_KEY');
  if (rawRootKey !== undefined) {
    const decoded = Buffer.from(rawRootKey, 'base64');
    if (decoded.length !== 32 || decoded.toString('base64').replace(/=+$/, '') !== rawRootKey.replace(/=+$/, '')) {
      problems.push('COFFER_ROOT_KEY must be 32 bytes encoded as base64 (generate one with: openssl rand -base64 32)');
    } else {
      rootKey = decoded;
    }
  }

  const dnsServersRaw = read('COFFER_DNS_SERVERS');
  const dnsServers = dnsServersRaw?.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (dnsServers?.some((entry) => !/^(?:\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?|\[[0-9A-Fa-f:]+\](?::\d{1,5})?|[0-9A-Fa-f:]+)$/.test(entry))) {
    problems.push(`COFFER_DNS_SERVERS must be comma-separated IP addresses, each with an optional :port (got "${dnsServersRaw}")`);
  }

  const trustProxyRaw = oneOf('COFFER_TRUST_PROXY', ['true', 'false'], 'false');

  // COFFER_<NAME>_LIMIT_PER_IP, _PER_EMAIL and _WINDOW_SECONDS.
  const attemptLimit = (name: string, defaults: AttemptLimitConfig): AttemptLimitConfig => ({
    perIp: integer(`COFFER_${name}_LIMIT_PER_IP`, defaults.perIp, 1, 1_000_000_000),
    perEmail: integer(`COFFER_${name}_LIMIT_PER_EMAIL`, defaults.perEmail, 1, 1_000_000_000),
    windowSeconds: integer(`COFFER_${name}_LIMIT_WINDOW_SECONDS`, defaults.windowSeconds, 1, 7 * 24 * 3600),
  });

  const config: Config = {
    port: integer('PORT', 8080, 0, 65535),
    host: read('HOST') ?? '127.0.0.1',
    databaseUrl,
    dataDir: path.resolve(read('COFFER_DATA_DIR') ?? './data'),
    rootKey,
    logLevel: oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    signup: oneOf('COFFER_SIGNUP', ['open', 'closed'] as const, 'open'),
    sessionTtlSeconds: integer('COFFER_SESSION_TTL_SECONDS', 12 * 3600, 60, 30 * 24 * 3600),
    sessionIdleSeconds: integer('COFFER_SESSION_IDLE_SECONDS', 2 * 3600, 60, 30 * 24 * 3600),
    trustProxy: trustProxyRaw === 'true',
    shutdownTimeoutSeconds: integer('COFFER_SHUTDOWN_TIMEOUT', 10, 1, 3600),
    rateLimits: {
      signup: attemptLimit('SIGNUP', { perIp: 10, perEmail: 5, windowSeconds: 3600 }),
      login: attemptLimit('LOGIN', { perIp: 50, perEmail: 10, windowSeconds: 15 * 60 }),
      invitationAccept: attemptLimit('INVITATION_ACCEPT', { perIp: 20, perEmail: 10, windowSeconds: 3600 }),
    },
    webhooks: {
      // Off by default: see the SSRF stance in modules/webhooks/destination.ts.
      allowPrivate: oneOf('COFFER_WEBHOOK_ALLOW_PRIVATE', ['true', 'false'], 'false') === 'true',
      pollMs: integer('COFFER_WEBHOOK_POLL_MS', 1000, 10, 60_000),
      retryBaseMs: integer('COFFER_WEBHOOK_RETRY_BASE_MS', 10_000, 1, 3600_000),
      maxAttempts: integer('COFFER_WEBHOOK_MAX_ATTEMPTS', 8, 1, 100),
      disableAfter: integer('COFFER_WEBHOOK_DISABLE_AFTER', 20, 1, 10_000),
      timeoutMs: integer('COFFER_WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    },
    changePollMs: integer('COFFER_CHANGE_POLL_MS', 500, 10, 60_000),
    checkpointDir: read('COFFER_CHECKPOINT_DIR') === undefined ? undefined : path.resolve(read('COFFER_CHECKPOINT_DIR')!),
    dnsServers: dnsServers && dnsServers.length > 0 ? dnsServers : undefined,
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
