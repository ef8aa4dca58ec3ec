import { Type } from 'typebox';
import type { Organization } from '../../kernel/db/schema.js';
import { Name, Slug, Timestamp, Uuid } from '../../kernel/http/schemas.js';


export const CreateOrganizationBody = Type.Object(
  { slug: Slug, name: Type.Optional(Name) },
  { additionalProperties: false },
);

export const UpdateOrganizationBody = Type.Object(
  {
    slug: Type.Optional(Slug),
    name: Type.Optional(Name),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const SettingsBody = Type.Object(
  {
    retention_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 36500, description: 'Audit events older than this many days are purged' })),
    enforce_sso: Type.Optional(
      Type.Boolean({ description: 'Members other than the OWNER must sign in through the organization\'s SSO provider; needs one. API tokens are unaffected' }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const OrganizationView = Type.Object({
  id: Uuid,
  slug: Slug,
  name: Type.String(),
  role: Type.Optional(Type.String({ description: 'Your role in it' })),
  retention_days: Type.Integer({ description: 'Audit events older than this are purged' }),
  enforce_sso: Type.Boolean({ description: 'Whether members other than the OWNER must sign in through SSO' }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export function toOrganizationView(org: Organization, role?: string) {
  return {
    id: org.id,
    slug: org.slug,
    name: org.name,
    ...(role ? { role } : {}),
    retention_days: org.retention_days,
    enforce_sso: org.enforce_sso,
    created_at: org.created_at.toISOString(),
    updated_at: org.updated_at.toISOString(),
  };
}
