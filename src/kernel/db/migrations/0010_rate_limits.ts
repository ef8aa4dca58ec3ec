import { sql, type Kysely } from 'kysely';

/**
 * Attempt counters shared by every instance (sign-up, login, invitation acceptance), in the
 * layout rate-limiter-flexible's PostgreSQL store reads and writes: `key` is
 * `<limit>:<ip|email>:<sha-256>`, `points` the attempts in the window, `expire` the window's
 * end in epoch milliseconds. Rows are scratch data: losing them only resets the counters.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table rate_limits (
      key varchar(255) primary key,
      points integer not null default 0,
      expire bigint
    );
  `.execute(db);
}
