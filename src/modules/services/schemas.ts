import { Type } from 'typebox';
import { SERVICE_KINDS, type Service } from '../../kernel/db/schema.js';
import { Name, Slug, Timestamp, Uuid } from '../../kernel/http/schemas.js';
import { maskSecret } from '../../kernel/mask.js';

export const ServiceKind = Type.Enum(SERVICE_KINDS);

export const EnvironmentScopeParams = Type.Object({ org: Slug, project: Slug, env: Slug });
export const ServiceParams = Type.Object({ org: Slug, project: Slug, env: Slug, service: Slug });

/** Connection attributes (host, port, username, password…) from which built-in variables derive. */
const OUTPUT_NAME = '^[a-z][a-z0-9_]{0,62}$';
export const Outputs = Type.Record(Type.String({ pattern: OUTPUT_NAME }), Type.String({ maxLength: 4096 }), {
  maxProperties: 64,
  propertyNames: { pattern: OUTPUT_NAME },
  description: 'Output names are lower_snake_case; values are strings',
});

export const CreateServiceBody = Type.Object(
  { slug: Slug, name: Type.Optional(Name), kind: ServiceKind, outputs: Type.Optional(Outputs) },
  { additionalProperties: false },
);

export const UpdateServiceBody = Type.Object(
  { slug: Type.Optional(Slug), name: Type.Optional(Name), kind: Type.Optional(ServiceKind), outputs: Type.Optional(Outputs) },
  { additionalProperties: false, minProperties: 1 },
);

export const ServiceView = Type.Object({
  id: Uuid,
  slug: Slug,
  name: Type.String(),
  kind: ServiceKind,
  outputs: Type.Record(Type.String(), Type.String(), { description: 'Secret outputs (password, secret, token) are masked' }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

/** SPEC §3: outputs named password, secret or token are secrets. */
export function isSecretOutput(name: string): boolean {
  return /password|secret|token/i.test(name);
}

export function toServiceView(service: Service) {
  const outputs: Record<string, string> = {};
  for (const [name, value] of Object.entries(service.outputs)) {
    outputs[name] = isSecretOutput(name) ? maskSecret(value) : value;
  }
  return {
    id: service.id,
    slug: service.slug,
    name: service.name,
    kind: service.kind,
    outputs,
    created_at: service.created_at.toISOString(),
    updated_at: service.updated_at.toISOString(),
  };
}
