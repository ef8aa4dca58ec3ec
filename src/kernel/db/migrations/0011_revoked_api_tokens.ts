import { sql, type Kysely } from 'kysely';

/**
 * The hashes of revoked API tokens, so that whoever still sends one is told it was revoked
 * and when (issue #11), not that it is unknown. Only a holder of the token can compute its
 * hash, so the answer tells nothing to anyone else; the organization's deletion removes them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table revoked_api_tokens (
      token_hash bytea primary key,
      organization_id uuid not null references organizations(id) on delete cascade,
      revoked_at timestamptz not null default now()
    );
  `.execute(db);
}
