import { Type } from 'typebox';
import { Slug, Timestamp, Uuid } from '../../kernel/http/schemas.js';

export const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    scopes: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
        minItems: 1,
        maxItems: 100,
        description: 'Actions (secret:read), resource:* or *',
      }),
    ),
    preset: Type.Optional(Type.Enum(['read-only', 'ci'] as const, { description: 'In place of scopes' })),
    path: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'project, project/environment or project/environment/service' })),
    expires_at: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

export const TokenView = Type.Object({
  id: Uuid,
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  path: Type.Union([Type.String(), Type.Null()]),
  prefix: Type.String({ description: 'The first characters of the token, to tell tokens apart' }),
  created_by: Type.Union([Type.Object({ user_id: Uuid, email: Type.String() }), Type.Null()]),
  created_at: Timestamp,
  expires_at: Type.Union([Timestamp, Type.Null()]),
  last_used_at: Type.Union([Timestamp, Type.Null()]),
});

export const CreatedToken = Type.Object({
  ...TokenView.properties,
  token: Type.String({ description: 'The token itself: shown only in this response' }),
});

/** The token sending the request, with its organization (GET /token). */
export const CurrentToken = Type.Object({ ...TokenView.properties, organization: Type.Object({ id: Uuid, slug: Slug }) });

export const TokenParams = Type.Object({ org: Slug, token_id: Type.String({ minLength: 1, maxLength: 64 }) });
