import { sql, type Kysely } from 'kysely';

/**
 * Single sign-on, "sync now" (issue #15): `sso_identities` remembers, per member who signed
 * in with SSO, the provider and subject, and the refresh token of their latest sign-in
 * (sealed under the organization's data key, never in plaintext), so an admin can re-evaluate
 * everyone's groups at once without waiting for their next sign-in.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table sso_identities (
      organization_id uuid not null references organizations(id) on delete cascade,
      user_id uuid not null references users(id) on delete cascade,
      provider_id uuid not null references sso_providers(id) on delete cascade,
      subject text not null,
      refresh_token_sealed bytea,
      data_key_id uuid references data_keys(id) on delete cascade,
      updated_at timestamptz not null default now(),
      primary key (organization_id, user_id),
      constraint sso_identities_sealed check ((refresh_token_sealed is null) = (data_key_id is null))
    );
    create index sso_identities_provider_idx on sso_identities (provider_id);
    create index sso_identities_user_idx on sso_identities (user_id);
    create index sso_identities_data_key_idx on sso_identities (data_key_id);
  `.execute(db);
}
