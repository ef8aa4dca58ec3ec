import { Type } from 'typebox';
import type { SsoProvider } from '../../kernel/db/schema.js';
import { Uuid } from '../../kernel/http/schemas.js';
import { parseIdpMetadata } from './saml.js';

/** What a SAML provider's view adds: the URLs to give the identity provider. */
export const SamlProviderFields = {
  sp_entity_id: Type.Optional(Type.String({ description: "SAML: Coffer's entity ID (the audience the IdP must name); the same as sp_metadata_url" })),
  sp_metadata_url: Type.Optional(Type.String({ description: "SAML: Coffer's service provider metadata, for the IdP to import" })),
  acs_url: Type.Optional(Type.String({ description: 'SAML: the Assertion Consumer Service URL (HTTP-POST binding)' })),
  idp_sso_url: Type.Optional(Type.String({ description: "SAML: the IdP's HTTP-Redirect sign-on URL, from its metadata" })),
};

/** The ACS, where every SAML provider's IdP POSTs; the provider is known from the RelayState. */
export const SAML_ACS_PATH = '/auth/sso/saml/acs';
export const samlMetadataPath = (providerId: string) => `/auth/sso/saml/${providerId}/metadata`;

/**
 * Coffer's endpoints as the browser reached it. `callbackUrl` is the OIDC callback the routes
 * build from the request (…/auth/sso/callback): the SAML ones sit beside it.
 */
export function samlEndpoints(providerId: string, callbackUrl: string) {
  const metadata = new URL(`saml/${providerId}/metadata`, callbackUrl).href;
  return { entityId: metadata, metadataUrl: metadata, acsUrl: new URL('saml/acs', callbackUrl).href };
}

export function toSamlProviderView(provider: SsoProvider, callbackUrl: string) {
  const endpoints = samlEndpoints(provider.id, callbackUrl);
  return {
    id: provider.id,
    type: provider.type,
    name: provider.name,
    issuer: provider.issuer,
    sp_entity_id: endpoints.entityId,
    sp_metadata_url: endpoints.metadataUrl,
    acs_url: endpoints.acsUrl,
    idp_sso_url: parseIdpMetadata(provider.idp_metadata_xml!).ssoUrl,
    created_at: provider.created_at.toISOString(),
  };
}

export const SamlMetadataParams = Type.Object({ provider_id: Uuid });
