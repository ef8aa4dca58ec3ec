import { sql, type Kysely } from 'kysely';

/**
 * Changes reach running services (issue #14 §2).
 * - `changes`: one row per variable change (create, update, delete, rollback), written in the
 *   transaction of the change. Keys, versions and places only, never a value. Its id is the
 *   change stream's event id (`Last-Event-ID`); writers take a per-organization lock before
 *   inserting, so within an organization ids become visible in order.
 * - `webhooks`: the signing secret is sealed under the organization's data key with the
 *   webhook id as additional data, and shown once at creation.
 * - `webhook_deliveries`: the outbox. A row per (webhook, event), inserted in the change's
 *   transaction; workers in any instance claim due rows with FOR UPDATE SKIP LOCKED.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table changes (
      id bigint generated always as identity primary key,
      organization_id uuid not null references organizations(id) on delete cascade,
      project_id uuid,
      environment_id uuid,
      service_id uuid,
      scope text not null,
      assignee_user_id uuid,
      variable_id uuid not null,
      key text not null,
      type text not null,
      version integer not null,
      operation text not null,
      actor_name text not null,
      created_at timestamptz not null default now()
    );
    create index changes_org_idx on changes (organization_id, id);

    create table webhooks (
      id uuid primary key,
      organization_id uuid not null references organizations(id) on delete cascade,
      project_id uuid references projects(id) on delete cascade,
      environment_id uuid references environments(id) on delete cascade,
      url text not null,
      events text not null,
      secret_sealed bytea not null,
      data_key_id uuid not null references data_keys(id) on delete cascade,
      enabled boolean not null default true,
      consecutive_failures integer not null default 0,
      disabled_reason text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index webhooks_org_idx on webhooks (organization_id);

    create table webhook_deliveries (
      id uuid primary key,
      webhook_id uuid not null references webhooks(id) on delete cascade,
      event text not null,
      payload text not null,
      status text not null check (status in ('pending', 'succeeded', 'failed')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      last_status_code integer,
      last_error text,
      latency_ms integer,
      redelivery_of uuid,
      created_at timestamptz not null default now(),
      completed_at timestamptz
    );
    create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status = 'pending';
    create index webhook_deliveries_webhook_idx on webhook_deliveries (webhook_id, created_at);
  `.execute(db);
}
