import { sql, type Kysely } from 'kysely';

/** Custom roles (SPEC §2.3) and memberships that hold one. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table custom_roles (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id) on delete cascade,
      name text not null,
      description text not null default '',
      -- Bumped by every change: compiled grants are cached per (id, version), so every
      -- instance sees a change on its next request without any message between them.
      version integer not null default 1,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create unique index custom_roles_name on custom_roles(organization_id, lower(name));

    create table custom_role_clusters (
      role_id uuid not null references custom_roles(id) on delete cascade,
      cluster_id uuid not null references clusters(id) on delete cascade,
      permission text not null check (permission in ('VIEWER', 'ENV_CREATOR', 'ADMIN')),
      position integer not null,
      primary key (role_id, cluster_id)
    );

    create table custom_role_projects (
      role_id uuid not null references custom_roles(id) on delete cascade,
      project_id uuid not null references projects(id) on delete cascade,
      is_admin boolean not null default false,
      levels jsonb not null,
      position integer not null,
      primary key (role_id, project_id)
    );

    create table custom_role_environments (
      role_id uuid not null references custom_roles(id) on delete cascade,
      environment_id uuid not null references environments(id) on delete cascade,
      permissions jsonb not null,
      position integer not null,
      primary key (role_id, environment_id)
    );

    -- Deferred for the same reason as environments.cluster_id: deleting an organization
    -- removes its roles and its memberships in one cascade.
    alter table memberships add column role_id uuid references custom_roles(id) deferrable initially deferred;
    alter table memberships add constraint memberships_custom_role_id check ((role = 'CUSTOM') = (role_id is not null));
    create index memberships_role_idx on memberships(role_id);

    -- Deleting a cluster, project or environment cascades out of the roles that named it;
    -- that too is a change of the role, so its version moves and cached grants are dropped.
    create function custom_role_entry_removed() returns trigger language plpgsql as $$
    begin
      update custom_roles set version = version + 1, updated_at = now() where id = old.role_id;
      return old;
    end $$;
    create trigger custom_role_clusters_removed after delete on custom_role_clusters
      for each row execute function custom_role_entry_removed();
    create trigger custom_role_projects_removed after delete on custom_role_projects
      for each row execute function custom_role_entry_removed();
    create trigger custom_role_environments_removed after delete on custom_role_environments
      for each row execute function custom_role_entry_removed();
  `.execute(db);
}
