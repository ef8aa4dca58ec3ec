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
  { retention_days: Type.Integer({ minimum: 1, maximum: 36500, description: 'Audit events older than this many days are purged' }) },
  { additionalProperties: false },
);

export const OrganizationView = Type.Object({
  id: Uuid,
  slug: Slug,
  name: Type.String(),
  role: Type.Optional(Type.String({ description: 'Your role in it' })),
  retention_days: Type.Integer({ description: 'Audit events older than this are purged' }),
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
    created_at: org.created_at.toISOString(),
    updated_at: org.updated_at.toISOString(),
  };
}
