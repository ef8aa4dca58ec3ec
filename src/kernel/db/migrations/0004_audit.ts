import { sql, type Kysely } from 'kysely';

/** The audit log (SPEC §6): an append-only, hash-chained log per organization, and a per-user security log. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- No foreign key to organizations: the log of a deleted organization outlives it.
    create table audit_events (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null,
      seq bigint not null,
      occurred_at timestamptz not null,
      event_type text not null,
      target_type text not null,
      target_id text,
      target_name text,
      change text not null,
      actor_type text not null,
      actor_id text,
      actor_name text not null,
      tool text not null,
      source_ip text,
      request_id text,
      details jsonb not null default '{}',
      prev_hash bytea not null,
      hash bytea not null,
      unique (organization_id, seq)
    );
    create index audit_events_time_idx on audit_events(organization_id, occurred_at);

    -- The head of each organization's chain; its row lock serializes appends per organization.
    -- first_seq/first_prev_hash say where the kept chain starts after a retention purge.
    create table audit_chains (
      organization_id uuid primary key,
      last_seq bigint not null default 0,
      last_hash bytea not null,
      first_seq bigint not null default 1,
      first_prev_hash bytea not null
    );

    create table security_events (
      id uuid primary key default gen_random_uuid(),
      user_id uuid references users(id) on delete cascade,
      email text not null,
      event_type text not null,
      source_ip text,
      user_agent text,
      occurred_at timestamptz not null default now()
    );
    create index security_events_user_idx on security_events(user_id, occurred_at);
  `.execute(db);
}
