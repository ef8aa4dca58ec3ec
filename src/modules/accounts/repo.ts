import { sql, type Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';

/** Constraints whose violation the service answers in its own words (see translateConstraints). */
export const ACCOUNT_CONSTRAINTS = { email: 'users_email_key' } as const;

export function createAccountsRepo(db: Kysely<Database>) {
  return {
    countUsers: async () =>
      (await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,

    userByEmail: (email: string) => db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst(),

    userById: (id: string) => db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst(),

    insertUser: (user: { email: string; name: string; password_hash: string }) =>
      db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow(),

    insertSession: (session: { user_id: string; token_hash: Buffer; expires_at: Date; ip: string | null; user_agent: string | null; sso_organization_id: string | null }) =>
      db
        .insertInto('sessions')
        .values({ ...session, last_seen_at: new Date() })
        .returningAll()
        .executeTakeFirstOrThrow(),

    /** The live session with this token hash, with its user; idle and expired ones are not live. */
    liveSession: (tokenHash: Buffer, idleSeconds: number) =>
      db
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select([
          'sessions.id as session_id',
          'sessions.last_seen_at',
          'sessions.expires_at',
          'sessions.sso_organization_id',
          'users.id as user_id',
          'users.email',
          'users.name',
        ])
        .where('sessions.token_hash', '=', tokenHash)
        .where('sessions.expires_at', '>', sql<Date>`now()`)
        .where('sessions.last_seen_at', '>', sql<Date>`now() - make_interval(secs => ${idleSeconds})`)
        .executeTakeFirst(),

    touchSession: (id: string) =>
      db.updateTable('sessions').set({ last_seen_at: sql`now()` }).where('id', '=', id).execute(),

    sessionsOf: (userId: string) =>
      db
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .where('expires_at', '>', sql<Date>`now()`)
        .orderBy('created_at', 'desc')
        .execute(),

    deleteSession: async (userId: string, id: string) =>
      (await db.deleteFrom('sessions').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst())
        .numDeletedRows > 0n,

    deleteExpiredSessions: () => db.deleteFrom('sessions').where('expires_at', '<=', sql<Date>`now()`).execute(),

    securityEvent: (event: { user_id: string | null; email: string; event_type: 'LOGIN' | 'LOGIN_FAILED'; source_ip: string | null; user_agent: string | null }) =>
      db.insertInto('security_events').values(event).execute(),

    securityEventsOf: (userId: string) =>
      db.selectFrom('security_events').selectAll().where('user_id', '=', userId).orderBy('occurred_at', 'desc').limit(100).execute(),

    organizationsOf: (userId: string) =>
      db
        .selectFrom('memberships')
        .innerJoin('organizations', 'organizations.id', 'memberships.organization_id')
        .select(['organizations.id', 'organizations.slug', 'organizations.name', 'memberships.role'])
        .where('memberships.user_id', '=', userId)
        .orderBy('organizations.slug')
        .execute(),
  };
}

export type AccountsRepo = ReturnType<typeof createAccountsRepo>;
