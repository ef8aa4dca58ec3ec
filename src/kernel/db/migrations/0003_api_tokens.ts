import { sql, type Kysely } from 'kysely';

/** Organization API tokens for programs (SPEC §5). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table api_tokens (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id) on delete cascade,
      name text not null,
      -- Only a SHA-256 of the token is kept; prefix is its first characters, for people.
      token_hash bytea not null unique,
      prefix text not null,
      scopes jsonb not null,
      -- The path restriction: none, a project, an environment, or a service.
      project_id uuid references projects(id) on delete cascade,
      environment_id uuid references environments(id) on delete cascade,
      service_id uuid references services(id) on delete cascade,
      created_by uuid references users(id) on delete set null,
      created_at timestamptz not null default now(),
      expires_at timestamptz,
      last_used_at timestamptz,
      unique (organization_id, name),
      check (environment_id is null or project_id is not null),
      check (service_id is null or environment_id is not null)
    );
  `.execute(db);
}
