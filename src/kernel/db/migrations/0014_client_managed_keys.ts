import { sql, type Kysely } from 'kysely';

/**
 * Client-managed keys (issue #13, SPEC §4).
 * - `projects.encryption`: chosen at creation, `server` (default) or `client`.
 * - `project_keys`: a client project's key as the client sent it, wrapped under a key the
 *   client derived from its passphrase (Argon2id). The server keeps the wrapped key, salt and
 *   parameters and nothing else: it never sees the passphrase or the key. `key_version` counts
 *   rotations; every value carries the version of the key it was encrypted under.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table projects add column encryption text not null default 'server' check (encryption in ('server', 'client'));

    create table project_keys (
      project_id uuid primary key references projects(id) on delete cascade,
      key_version integer not null check (key_version >= 1),
      wrapped_key text not null,
      salt text not null,
      kdf_memory_kib integer not null,
      kdf_iterations integer not null,
      kdf_parallelism integer not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
  `.execute(db);
}
