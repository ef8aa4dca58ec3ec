import { sql, type Kysely } from 'kysely';

/**
 * The keys a READ_SECRET event resolved, stored once per distinct list: a service resolved
 * a thousand times a minute names the same 300 keys each time. The event carries the list's
 * SHA-256 (`details.key_set`), so the chain still covers exactly which keys were read, and
 * reads of the log show the list in place. Like audit events, kept past the organization.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table audit_key_sets (
      organization_id uuid not null,
      digest text not null,
      keys jsonb not null,
      created_at timestamptz not null default now(),
      primary key (organization_id, digest)
    );
  `.execute(db);
}
