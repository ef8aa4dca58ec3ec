import { sql, type Kysely } from 'kysely';

/**
 * Single sign-on (issue #15), first slice: OpenID Connect providers per organization.
 * - `sso_providers`: the client secret is sealed under the organization's data key with the
 *   provider id as additional data (like variable values, SPEC §4), and never returned.
 * - `sso_logins`: sign-ins started and not yet finished. The state is stored only hashed
 *   (it is a bearer value in the URL); `used_at` makes a callback single use.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table sso_providers (
      id uuid primary key,
      organization_id uuid not null references organizations(id) on delete cascade,
      type text not null check (type in ('oidc')),
      name text not null,
      issuer text not null,
      client_id text not null,
      client_secret_sealed bytea not null,
      data_key_id uuid not null references data_keys(id) on delete cascade,
      scopes text not null,
      created_at timestamptz not null default now(),
      constraint sso_providers_name_key unique (organization_id, name)
    );

    create table sso_logins (
      state_hash bytea primary key,
      provider_id uuid not null references sso_providers(id) on delete cascade,
      nonce text not null,
      code_verifier text not null,
      redirect_uri text not null,
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now()
    );
    create index sso_logins_expires_idx on sso_logins (expires_at);
  `.execute(db);
}
