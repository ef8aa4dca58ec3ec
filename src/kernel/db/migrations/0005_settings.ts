import { sql, type Kysely } from 'kysely';

/** Server-wide facts, e.g. the check that the configured root key is the one the data was written with. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table coffer_settings (
      name text primary key,
      value bytea not null,
      updated_at timestamptz not null default now()
    );
  `.execute(db);
}
