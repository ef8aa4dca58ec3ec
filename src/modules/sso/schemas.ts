import { Type, type Static } from 'typebox';
import { Name, Slug, Timestamp, Uuid } from '../../kernel/http/schemas.js';
import type { SsoProvider } from '../../kernel/db/schema.js';
import { SamlProviderFields, toSamlProviderView } from './saml-schemas.js';

// The shape: `type` selects the protocol. One flat object (not a union, whose errors
// would name the wrong branch's fields): the fields each protocol requires are checked by the
// service, naming the missing field.
export const CreateProviderBody = Type.Object(
  {
    type: Type.Union([Type.Literal('oidc'), Type.Literal('saml')]),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    issuer: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'OIDC: https URL of the issuer (http only on a loopback host)' })),
    client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'OIDC' })),
    client_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'OIDC: stored encrypted; never returned' })),
    idp_metadata_xml: Type.Optional(Type.String({ minLength: 1, maxLength: 200_000, description: "SAML: the identity provider's metadata XML (entity ID, HTTP-Redirect sign-on URL, signing certificate)" })),
    scopes: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 100, pattern: '^[!#-\\[\\]-~]+$' }), { maxItems: 20, description: "Requested in addition to 'openid'" }),
    ),
  },
  { additionalProperties: false },
);
export type CreateProviderInput = Static<typeof CreateProviderBody>;

const { type: _type, ...editable } = CreateProviderBody.properties;
/** Any of the creation fields but the type; a new client_secret replaces the stored one. */
export const UpdateProviderBody = Type.Object(
  { name: Type.Optional(editable.name), issuer: editable.issuer, client_id: editable.client_id, client_secret: editable.client_secret, scopes: editable.scopes, idp_metadata_xml: editable.idp_metadata_xml },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateProviderInput = Static<typeof UpdateProviderBody>;

/** What the public sign-in page may know of an organization's providers: enough to pick one. */
export const PublicProvidersView = Type.Object({
  items: Type.Array(Type.Object({ id: Uuid, name: Name, type: Type.Union([Type.Literal('oidc'), Type.Literal('saml')]), start_url: Type.String() })),
});

export const ProviderParams = Type.Object({ org: Slug, provider_id: Uuid });

export const ProviderView = Type.Object({
  id: Uuid,
  type: Type.Union([Type.Literal('oidc'), Type.Literal('saml')]),
  name: Name,
  issuer: Type.String({ description: "OIDC: the issuer; SAML: the identity provider's entity ID" }),
  client_id: Type.Optional(Type.String()),
  scopes: Type.Optional(Type.Array(Type.String())),
  redirect_uri: Type.Optional(Type.String({ description: 'OIDC: register this as the redirect URI at the identity provider' })),
  ...SamlProviderFields,
  created_at: Timestamp,
});

export const StartParams = Type.Object({ org: Slug });
export const StartQuery = Type.Object({ provider: Type.Optional(Uuid) });

/**
 * What the identity provider appends to the redirect URI: built by the IdP, not by a person,
 * and providers add parameters of their own (session_state …), so unknown ones are allowed.
 */
export const CallbackQuery = Type.Object(
  {
    state: Type.Optional(Type.String({ maxLength: 200 })),
    code: Type.Optional(Type.String({ maxLength: 2000 })),
    iss: Type.Optional(Type.String({ maxLength: 500 })),
    error: Type.Optional(Type.String({ maxLength: 200 })),
    error_description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: true },
);

export function toProviderView(provider: SsoProvider, redirectUri: string) {
  if (provider.type === 'saml') return toSamlProviderView(provider, redirectUri);
  return {
    id: provider.id,
    type: provider.type,
    name: provider.name,
    issuer: provider.issuer,
    client_id: provider.client_id,
    scopes: provider.scopes.split(' '),
    redirect_uri: redirectUri,
    created_at: provider.created_at.toISOString(),
  };
}
