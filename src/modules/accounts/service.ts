import { createHash } from 'node:crypto';
import type { Config } from '../../config.js';
import { translateConstraint } from '../../kernel/db/errors.js';
import { AppError, conflict, notFound } from '../../kernel/errors.js';
import { hashToken, randomToken, tokenHashKey } from '../../kernel/crypto/random-token.js';
import { boundedCache } from '../../kernel/cache/bounded.js';
import type { Invalidation } from '../../kernel/cache/invalidation.js';
import { evictWhere } from '../../kernel/cache/evict.js';
import { EVERY_MEMBER, MEMBERSHIP_TOPIC } from '../authz/membership-cache.js';
import { HIERARCHY_TOPIC } from '../authz/placement-cache.js';
import type { UserPrincipal } from '../../kernel/principal.js';
import type { MaybePromise } from '../../kernel/maybe.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { AttemptLimits } from './rate-limit.js';
import { ACCOUNT_CONSTRAINTS, type AccountsRepo } from './repo.js';

export const SESSION_PREFIX = 'cfs_';

/** How often a session's last_seen_at is written: not on every request. */
const TOUCH_INTERVAL_MS = 60_000;

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The CSRF token is derived from the session token, so it needs no storage and dies with the session. */
export function csrfTokenFor(sessionToken: string): string {
  return createHash('sha256').update(`coffer-csrf:${sessionToken}`).digest('base64url');
}

const SESSION_TOPIC = 'session';
const MAX_CACHED_SESSIONS = 100_000;
/** Invalidation keeps GET /me current; the TTL only lets people who left go. */
const ME_TTL_MS = 10 * 60_000;

interface CachedSession {
  sessionId: string;
  ssoOrganizationId: string | null;
  user: UserPrincipal['user'];
  expiresAt: number;
  /** Derived from the token once (a hash), not on every request. */
  csrfToken: string;
  /** When this instance last wrote last_seen_at (it writes at most once a minute). */
  touchedAt: number;
  /** The principal per way the token came, built once: requests only read it. */
  principals: { cookie?: UserPrincipal; header?: UserPrincipal };
}

function principalOf(entry: CachedSession, via: 'cookie' | 'header'): UserPrincipal {
  return (entry.principals[via] ??= {
    kind: 'user',
    user: entry.user,
    session: { id: entry.sessionId, via, csrfToken: entry.csrfToken, ssoOrganizationId: entry.ssoOrganizationId },
  });
}

export function createAccountsService(deps: {
  repo: AccountsRepo;
  config: Pick<Config, 'signup' | 'sessionTtlSeconds' | 'sessionIdleSeconds'>;
  hasPendingInvitation(email: string): Promise<boolean>;
  invalidation: Invalidation;
  limits: Pick<AttemptLimits, 'signup' | 'login'>;
}) {
  const { repo, config, invalidation, limits } = deps;

  // Live sessions by token hash: authentication costs no database round trip once warm.
  // Logout and revocation publish the session id, which evicts it on every instance.
  // Entries older than a minute are never served (see authenticate), so that is their TTL too.
  const cache = boundedCache<string, CachedSession>(MAX_CACHED_SESSIONS, { ttl: TOUCH_INTERVAL_MS });
  invalidation.subscribe(
    SESSION_TOPIC,
    (sessionId) => {
      evictWhere(cache, (entry) => entry.sessionId === sessionId);
    },
    () => cache.clear(),
  );
  // GET /me by user: the user row never changes once created, and the organizations listed
  // change only through the messages subscribed to here (membership added, changed or
  // removed; an organization renamed or deleted). A read racing such a message is not kept.
  const mine = boundedCache<string, Awaited<ReturnType<typeof readMe>>>(MAX_CACHED_SESSIONS, { ttl: ME_TTL_MS });
  let meEpoch = 0;
  const forgetMe = (userId?: string) => {
    meEpoch += 1;
    if (userId === undefined || userId === EVERY_MEMBER) mine.clear();
    else mine.delete(userId);
  };
  invalidation.subscribe(MEMBERSHIP_TOPIC, (key) => forgetMe(key.split(' ')[1]), () => forgetMe());
  invalidation.subscribe(HIERARCHY_TOPIC, () => forgetMe(), () => forgetMe());
  async function readMe(userId: string) {
    const user = await repo.userById(userId);
    if (!user) throw notFound('User');
    return { user, organizations: await repo.organizationsOf(user.id) };
  }

  /**
   * A new session for a person whose identity was proven (password, or single sign-on), with
   * its LOGIN security event: every way in ends in the same session, cookie and CSRF rules.
   * `ssoOrganizationId` records whose single sign-on opened it (organizations may enforce it).
   */
  async function openSession<U extends { id: string; email: string }>(user: U, client: ClientInfo, ssoOrganizationId: string | null = null) {
    await repo.securityEvent({ user_id: user.id, email: user.email, event_type: 'LOGIN', source_ip: client.ip, user_agent: client.userAgent?.slice(0, 500) ?? null });
    const token = randomToken(SESSION_PREFIX);
    const session = await repo.insertSession({
      user_id: user.id,
      token_hash: hashToken(token),
      expires_at: new Date(Date.now() + config.sessionTtlSeconds * 1000),
      ip: client.ip,
      user_agent: client.userAgent?.slice(0, 500) ?? null,
      sso_organization_id: ssoOrganizationId,
    });
    return { token, csrfToken: csrfTokenFor(token), session, user };
  }

  async function authenticateFromDatabase(token: string, key: string, via: 'cookie' | 'header', now: number): Promise<UserPrincipal | null> {
    const row = await repo.liveSession(Buffer.from(key, 'base64'), config.sessionIdleSeconds);
    if (!row) return null;
    if (now - row.last_seen_at.getTime() > TOUCH_INTERVAL_MS) await repo.touchSession(row.session_id);
    const entry: CachedSession = {
      sessionId: row.session_id,
      ssoOrganizationId: row.sso_organization_id,
      user: { id: row.user_id, email: row.email, name: row.name },
      expiresAt: row.expires_at.getTime(),
      csrfToken: csrfTokenFor(token),
      touchedAt: now > row.last_seen_at.getTime() + TOUCH_INTERVAL_MS ? now : row.last_seen_at.getTime(),
      principals: {},
    };
    cache.set(key, entry);
    return principalOf(entry, via);
  }

  return {
    async signup(input: { email: string; password: string; name: string }, client: ClientInfo) {
      const email = normaliseEmail(input.email);
      // Every sign-up counts, successful or not: creating accounts in bulk is what is limited.
      await limits.signup.attempt({ ip: client.ip, email });
      if (config.signup === 'closed' && (await repo.countUsers()) > 0 && !(await deps.hasPendingInvitation(email))) {
        throw new AppError('SIGNUP_CLOSED', 'Sign-up is closed on this server; ask an organization admin to invite you');
      }
      try {
        return await repo.insertUser({ email, name: input.name.trim(), password_hash: await hashPassword(input.password) });
      } catch (error) {
        throw translateConstraint(error, { [ACCOUNT_CONSTRAINTS.email]: () => conflict('An account with this email already exists; sign in instead') });
      }
    },

    /** Checks the password (same time whether or not the account exists) and opens a new session. */
    async login(input: { email: string; password: string }, client: ClientInfo) {
      const email = normaliseEmail(input.email);
      // Counted before the password is checked, atomically in the database: concurrent guesses
      // (on any instance) cannot all pass a check made before any of them was counted.
      await limits.login.attempt({ ip: client.ip, email });

      const user = await repo.userByEmail(email);
      const ok = await verifyPassword(user?.password_hash, input.password);
      const securityEvent = (event_type: 'LOGIN' | 'LOGIN_FAILED') =>
        repo.securityEvent({ user_id: user?.id ?? null, email, event_type, source_ip: client.ip, user_agent: client.userAgent?.slice(0, 500) ?? null });
      if (!user || !ok) {
        await securityEvent('LOGIN_FAILED');
        throw new AppError('UNAUTHENTICATED', 'Email or password is incorrect');
      }
      await limits.login.succeeded({ ip: client.ip, email });
      return openSession(user, client);
    },

    openSession,

    /**
     * The principal of a session token, or null when it is unknown, expired or idle too long:
     * at once from the cache (the common case), through the database otherwise.
     */
    authenticate(token: string, via: 'cookie' | 'header'): MaybePromise<UserPrincipal | null> {
      if (!token.startsWith(SESSION_PREFIX)) return null;
      const key = tokenHashKey(token);
      const now = Date.now();
      const cached = invalidation.healthy ? cache.get(key) : undefined;
      // Within a minute of its last write the session cannot have gone idle, and its expiry is known.
      if (cached && cached.expiresAt > now && now - cached.touchedAt < TOUCH_INTERVAL_MS) return principalOf(cached, via);
      cache.delete(key);
      return authenticateFromDatabase(token, key, via, now);
    },

    async logout(principal: UserPrincipal) {
      await repo.deleteSession(principal.user.id, principal.session.id);
      await invalidation.publish(SESSION_TOPIC, principal.session.id);
    },

    async me(principal: UserPrincipal) {
      const userId = principal.user.id;
      const hit = invalidation.healthy ? mine.get(userId) : undefined;
      if (hit) return hit;
      const started = meEpoch;
      const me = await readMe(userId);
      if (started === meEpoch && invalidation.healthy) mine.set(userId, me);
      return me;
    },

    sessions: (principal: UserPrincipal) => repo.sessionsOf(principal.user.id),

    /** The user's own security log: sign-ins and failed attempts on their account. */
    securityEvents: (principal: UserPrincipal) => repo.securityEventsOf(principal.user.id),

    async revokeSession(principal: UserPrincipal, sessionId: string) {
      if (!(await repo.deleteSession(principal.user.id, sessionId))) throw notFound('Session');
      await invalidation.publish(SESSION_TOPIC, sessionId);
    },
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
