import { Type, type Static } from 'typebox';
import { Slug, Timestamp, Uuid } from '../../kernel/http/schemas.js';
import type { SsoDomain } from '../../kernel/db/schema.js';
import type { RoleRule } from './role-rules.js';
import { txtRecordName } from './settings-service.js';

// A DNS name of at least two labels (example.com), lower or upper case; stored lower case.
export const DOMAIN_PATTERN = '^(?=.{1,253}\\.?$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}\\.?$';

export const AddDomainBody = Type.Object(
  { domain: Type.String({ pattern: DOMAIN_PATTERN, maxLength: 254, description: 'An email domain, e.g. example.com' }) },
  { additionalProperties: false },
);

export const DomainParams = Type.Object({ org: Slug, domain_id: Uuid });

export const DomainView = Type.Object({
  id: Uuid,
  domain: Type.String(),
  verified: Type.Boolean(),
  verified_at: Type.Union([Timestamp, Type.Null()]),
  txt_record: Type.Object(
    { name: Type.String(), value: Type.String() },
    { description: 'Publish this TXT record, then POST …/verify; it may be removed once verified' },
  ),
  created_at: Timestamp,
});

export function toDomainView(row: SsoDomain) {
  return {
    id: row.id,
    domain: row.domain,
    verified: row.verified_at !== null,
    verified_at: row.verified_at?.toISOString() ?? null,
    txt_record: { name: txtRecordName(row.domain), value: `coffer-verification=${row.verification_token}` },
    created_at: row.created_at.toISOString(),
  };
}

const RoleName = Type.String({ minLength: 1, maxLength: 100, description: 'A system role (not OWNER) or the name of a custom role of the organization' });

export const RoleMappingsBody = Type.Object(
  {
    claim: Type.String({ minLength: 1, maxLength: 100, description: 'The ID token / UserInfo claim holding the groups, e.g. groups' }),
    default_role: Type.Optional(Type.Union([RoleName, Type.Null()], { description: 'Given to a person in no mapped group; without one such a person is not let in (and loses membership)' })),
    mappings: Type.Array(Type.Object({ value: Type.String({ minLength: 1, maxLength: 200 }), role: RoleName }, { additionalProperties: false }), { maxItems: 200 }),
  },
  { additionalProperties: false },
);
export type RoleMappingsInput = Static<typeof RoleMappingsBody>;

export const RoleMappingsView = Type.Object({
  claim: Type.String(),
  default_role: Type.Union([Type.String(), Type.Null()]),
  mappings: Type.Array(Type.Object({ value: Type.String(), role: Type.String() })),
});

const roleNameOf = (rule: RoleRule) => (rule.role === 'CUSTOM' ? rule.role_name! : rule.role);

export function toRoleMappingsView(mappings: { claim: string; rules: RoleRule[] }) {
  const fallback = mappings.rules.find((rule) => rule.value === null);
  return {
    claim: mappings.claim,
    default_role: fallback ? roleNameOf(fallback) : null,
    mappings: mappings.rules.filter((rule) => rule.value !== null).map((rule) => ({ value: rule.value!, role: roleNameOf(rule) })),
  };
}
