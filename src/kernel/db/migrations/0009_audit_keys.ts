import { sql, type Kysely } from 'kysely';

/**
 * The audit log's own keys (issue #18): the Ed25519 seed that signs checkpoints and the key
 * value HMACs derive from, generated once at random and stored only wrapped, like data keys,
 * so rotating the root key re-wraps them instead of changing them. Earlier versions derived
 * both from the root key: on such an install (one whose root key check exists) this marks
 * the checkpoint key and each organization's HMAC key pending (`wrapped` null), and the next
 * start (or rotation) stores the very bytes those versions derived, so every checkpoint and
 * HMAC already handed out stays valid.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table audit_keys (
      name text primary key,
      provider text,
      wrapped bytea,
      created_at timestamptz not null default now(),
      rotated_at timestamptz
    );
  `.execute(db);
  await sql`
    insert into audit_keys (name)
    select 'checkpoint-signing' where exists (select 1 from coffer_settings where name = 'root_key_check')
  `.execute(db);
  await sql`
    insert into audit_keys (name)
    select 'value-hmac:' || id::text from organizations
    where exists (select 1 from coffer_settings where name = 'root_key_check')
  `.execute(db);
}
