import { sql, type Kysely } from 'kysely';

/**
 * Single sign-on (issue #15), second slice:
 * - `organizations.enforce_sso`: once on, sessions opened by password cannot act in the
 *   organization (its OWNER excepted: break-glass).
 * - `sessions.sso_organization_id`: the organization whose identity provider opened the
 *   session; null for a password session.
 * - `sso_domains`: email domains an organization claims, proven by a DNS TXT record; a domain
 *   is verified for one organization at most (it decides who is provisioned where).
 * - `sso_role_claims` and `sso_role_rules`: which claim carries groups, and what each value
 *   (null: the default) makes a person. A rule to a custom role goes with the role.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table organizations add column enforce_sso boolean not null default false;
    alter table sessions add column sso_organization_id uuid references organizations(id) on delete set null;

    create table sso_domains (
      id uuid primary key,
      organization_id uuid not null references organizations(id) on delete cascade,
      domain text not null,
      verification_token text not null,
      verified_at timestamptz,
      created_at timestamptz not null default now(),
      constraint sso_domains_organization_domain_key unique (organization_id, domain)
    );
    create unique index sso_domains_verified_key on sso_domains (domain) where verified_at is not null;

    create table sso_role_claims (
      organization_id uuid primary key references organizations(id) on delete cascade,
      claim text not null,
      updated_at timestamptz not null default now()
    );

    create table sso_role_rules (
      id uuid primary key,
      organization_id uuid not null references sso_role_claims(organization_id) on delete cascade,
      value text,
      role text not null,
      role_id uuid references custom_roles(id) on delete cascade,
      constraint sso_role_rules_custom check ((role = 'CUSTOM') = (role_id is not null)),
      constraint sso_role_rules_value_key unique (organization_id, value)
    );
    create index sso_role_rules_role_idx on sso_role_rules (role_id);
  `.execute(db);
}
