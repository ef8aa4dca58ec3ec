import { Type } from 'typebox';
import { SERVICE_KINDS, type Service } from '../../kernel/db/schema.js';
import { Name, Slug, Timestamp, Uuid } from '../../kernel/http/schemas.js';
import { maskSecret } from '../../kernel/mask.js';
import { isCredentialOutput, isSecretOutput } from './credentials.js';

export const ServiceKind = Type.Enum(SERVICE_KINDS);


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
  outputs: Type.Record(Type.String(), Type.String(), {
    description: "Secret outputs (password, secret, token) are masked; so is a database's user without database:read_credentials",
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export { isSecretOutput } from './credentials.js';

/**
 * Secret outputs are always masked (write-only, like secret variables); a database's other
 * credentials (its user) show in clear only to a caller who may read credentials there.
 */
export function toServiceView(service: Service, readsCredentials: boolean) {
  const outputs: Record<string, string> = {};
  for (const [name, value] of Object.entries(service.outputs)) {
    const masked = isSecretOutput(name) || (!readsCredentials && isCredentialOutput(service.kind, name));
    outputs[name] = masked ? maskSecret(value) : value;
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
