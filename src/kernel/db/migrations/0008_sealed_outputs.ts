import { sql, type Kysely } from 'kysely';

/**
 * Service outputs hold credentials (a database's user and password): sealed like variable
 * values, under the project's data key, bound to the service id. `outputs` keeps only what
 * was written before this migration, until the server seals it at start.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table services
      add column outputs_sealed bytea,
      add column outputs_key_id uuid references data_keys(id) on delete cascade;
  `.execute(db);
}
