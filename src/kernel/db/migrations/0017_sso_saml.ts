import { sql, type Kysely } from 'kysely';

/**
 * Single sign-on (issue #15), SAML 2.0 beside OpenID Connect:
 * - `sso_providers.type` may be 'saml'; such a provider keeps the IdP's metadata as uploaded
 *   (`idp_metadata_xml`), its entity ID in `issuer`, and no client secret (a SAML service
 *   provider that does not sign its requests holds no secret).
 * - `sso_saml_assertions`: the IDs of assertions already used, kept until they expire, so a
 *   replayed assertion is refused on every instance sharing the database.
 * Started SAML sign-ins reuse `sso_logins`: the RelayState is the state, `nonce` the
 * AuthnRequest ID that InResponseTo must name, `redirect_uri` the ACS URL.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table sso_providers drop constraint sso_providers_type_check;
    alter table sso_providers add constraint sso_providers_type_check check (type in ('oidc', 'saml'));
    alter table sso_providers alter column client_secret_sealed drop not null;
    alter table sso_providers alter column data_key_id drop not null;
    alter table sso_providers add column idp_metadata_xml text;
    alter table sso_providers add constraint sso_providers_protocol_check check (
      case type
        when 'saml' then idp_metadata_xml is not null and client_secret_sealed is null
        else idp_metadata_xml is null and client_secret_sealed is not null and data_key_id is not null
      end
    );

    create table sso_saml_assertions (
      provider_id uuid not null references sso_providers(id) on delete cascade,
      assertion_id text not null,
      expires_at timestamptz not null,
      primary key (provider_id, assertion_id)
    );
    create index sso_saml_assertions_expires_idx on sso_saml_assertions (expires_at);
  `.execute(db);
}
