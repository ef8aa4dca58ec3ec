import { sql, type Kysely } from 'kysely';

/**
 * Variables and their encryption (SPEC §3, §4).
 * - `data_keys`: one per project, plus one per organization for organization-scope values,
 *   stored only wrapped by the key provider named in `provider`.
 * - `variables`: the current state of each variable, its value sealed under its data key
 *   with the variable id and version as additional data. Deleting keeps the row (and its
 *   history) with `deleted_at` set; a new variable may then take the same key.
 * - `variable_versions`: every create, update, delete and rollback, with who and when.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table data_keys (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id) on delete cascade,
      project_id uuid references projects(id) on delete cascade,
      provider text not null,
      wrapped bytea not null,
      created_at timestamptz not null default now(),
      rotated_at timestamptz
    );
    create unique index data_keys_owner_idx
      on data_keys (organization_id, coalesce(project_id, '00000000-0000-0000-0000-000000000000'));

    create table variables (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id) on delete cascade,
      project_id uuid references projects(id) on delete cascade,
      environment_id uuid references environments(id) on delete cascade,
      service_id uuid references services(id) on delete cascade,
      assignee_user_id uuid references users(id) on delete cascade,
      scope text not null check (scope in ('organization', 'project', 'environment', 'service')),
      type text not null check (type in ('plain', 'secret', 'file', 'pg_service')),
      name text not null,
      mount_path text,
      immutable boolean not null default false,
      version integer not null check (version >= 1),
      data_key_id uuid not null references data_keys(id) on delete cascade,
      ciphertext bytea,
      deleted_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      -- The scope names exactly the places a variable hangs from.
      check (
        (scope = 'organization' and project_id is null and environment_id is null and service_id is null) or
        (scope = 'project' and project_id is not null and environment_id is null and service_id is null) or
        (scope = 'environment' and project_id is not null and environment_id is not null and service_id is null) or
        (scope = 'service' and project_id is not null and environment_id is not null and service_id is not null)
      ),
      check (assignee_user_id is null or scope = 'project'),
      check ((deleted_at is null) = (ciphertext is not null))
    );
    -- One live definition per name at a place (and per assignee); pg_service entries are
    -- named by their service, apart from keys.
    create unique index variables_live_name_idx on variables (
      coalesce(service_id, environment_id, project_id, organization_id),
      coalesce(assignee_user_id, '00000000-0000-0000-0000-000000000000'),
      (type = 'pg_service'),
      name
    ) where deleted_at is null;
    create index variables_placement_idx on variables (organization_id, project_id, environment_id, service_id)
      where deleted_at is null;

    create table variable_versions (
      variable_id uuid not null references variables(id) on delete cascade,
      version integer not null,
      operation text not null check (operation in ('CREATE', 'UPDATE', 'DELETE', 'ROLLBACK')),
      type text not null,
      mount_path text,
      ciphertext bytea,
      rolled_back_from integer,
      actor_type text not null,
      actor_id uuid,
      actor_name text not null,
      created_at timestamptz not null default now(),
      primary key (variable_id, version)
    );
  `.execute(db);
}
