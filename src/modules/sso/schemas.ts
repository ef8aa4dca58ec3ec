import { Type, type Static } from 'typebox';
import { Name, Slug, Timestamp, Uuid } from '../../kernel/http/schemas.js';
import type { SsoProvider } from '../../kernel/db/schema.js';

// The shape: `type` selects the protocol; only OpenID Connect exists in this slice.
export const CreateProviderBody = Type.Object(
  {
    type: Type.Literal('oidc'),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    issuer: Type.String({ minLength: 1, maxLength: 500, description: 'https URL of the issuer (http only on a loopback host)' }),
    client_id: Type.String({ minLength: 1, maxLength: 500 }),
    client_secret: Type.String({ minLength: 1, maxLength: 2000, description: 'Stored encrypted; never returned' }),
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
  { name: Type.Optional(editable.name), issuer: Type.Optional(editable.issuer), client_id: Type.Optional(editable.client_id), client_secret: Type.Optional(editable.client_secret), scopes: editable.scopes },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateProviderInput = Static<typeof UpdateProviderBody>;

/** What the public sign-in page may know of an organization's providers: enough to pick one. */
export const PublicProvidersView = Type.Object({
  items: Type.Array(Type.Object({ id: Uuid, name: Name, type: Type.Literal('oidc'), start_url: Type.String() })),
});

export const ProviderParams = Type.Object({ org: Slug, provider_id: Uuid });

export const ProviderView = Type.Object({
  id: Uuid,
  type: Type.Literal('oidc'),
  name: Name,
  issuer: Type.String(),
  client_id: Type.String(),
  scopes: Type.Array(Type.String()),
  redirect_uri: Type.String({ description: 'Register this as the redirect URI at the identity provider' }),
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
