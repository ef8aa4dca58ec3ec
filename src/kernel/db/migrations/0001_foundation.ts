import { sql, type Kysely } from 'kysely';

/** Accounts, sessions, organizations, membership, invitations and the hierarchy. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table users (
      id uuid primary key default gen_random_uuid(),
      email text not null unique check (email = lower(email)),
      name text not null,
      password_hash text not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );

    create table sessions (
      id uuid primary key default gen_random_uuid(),
      user_id uuid not null references users(id) on delete cascade,
      token_hash bytea not null unique,
      created_at timestamptz not null default now(),
      last_seen_at timestamptz not null default now(),
      expires_at timestamptz not null,
      ip text,
      user_agent text
    );
    create index sessions_user_idx on sessions(user_id);

    create table organizations (
      id uuid primary key default gen_random_uuid(),
      slug text not null unique,
      name text not null,
      retention_days integer not null default 365 check (retention_days > 0),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );

    create table memberships (
      organization_id uuid not null references organizations(id) on delete cascade,
      user_id uuid not null references users(id) on delete cascade,
      role text not null,
      created_at timestamptz not null default now(),
      primary key (organization_id, user_id)
    );
    create index memberships_user_idx on memberships(user_id);
    -- SPEC §1: exactly one Owner per organization; a second one is refused by the database too.
    create unique index memberships_one_owner on memberships(organization_id) where role = 'OWNER';

    create table invitations (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id) on delete cascade,
      email text not null,
      role text not null,
      token_hash bytea not null unique,
      invited_by uuid references users(id) on delete set null,
      expires_at timestamptz not null,
      accepted_at timestamptz,
      accepted_by uuid references users(id) on delete set null,
      created_at timestamptz not null default now()
    );
    create index invitations_org_idx on invitations(organization_id);

    create table clusters (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id) on delete cascade,
      name text not null,
      region text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (organization_id, name)
    );

    create table projects (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id) on delete cascade,
      slug text not null,
      name text not null,
      description text not null default '',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (organization_id, slug)
    );

    create table environments (
      id uuid primary key default gen_random_uuid(),
      project_id uuid not null references projects(id) on delete cascade,
      slug text not null,
      name text not null,
      type text not null check (type in ('DEVELOPMENT', 'PREVIEW', 'STAGING', 'PRODUCTION')),
      -- Deferred: deleting an organization cascades to its clusters and (through projects) its
      -- environments, and the check must wait for both; a cluster still hosting one is refused.
      cluster_id uuid references clusters(id) deferrable initially deferred,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (project_id, slug)
    );
    create index environments_cluster_idx on environments(cluster_id);

    create table services (
      id uuid primary key default gen_random_uuid(),
      environment_id uuid not null references environments(id) on delete cascade,
      slug text not null,
      name text not null,
      kind text not null check (kind in ('application', 'database', 'job', 'container')),
      outputs jsonb not null default '{}',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (environment_id, slug)
    );
  `.execute(db);
}
