import { Type } from 'typebox';
import type { ProjectKey } from '../../kernel/db/schema.js';
import { Timestamp, Uuid } from '../../kernel/http/schemas.js';
import { WrappedKeyBody } from '../projects/schemas.js';

export const ProjectKeyView = Type.Object({
  organization_id: Uuid,
  project_id: Uuid,
  key_version: Type.Integer(),
  wrapped_key: Type.String(),
  salt: Type.String(),
  kdf: Type.Object({ algorithm: Type.Literal('argon2id'), memory_kib: Type.Integer(), iterations: Type.Integer(), parallelism: Type.Integer() }),
  updated_at: Timestamp,
});

export const ChangePassphraseBody = Type.Object(
  {
    current_wrapped_key: Type.String({ maxLength: 512, description: 'The wrapped key as key:retrieve returned it: proves the client unwrapped the current one' }),
    key: WrappedKeyBody,
  },
  { additionalProperties: false },
);

export const RotateKeyBody = Type.Object(
  {
    current_key_version: Type.Integer({ minimum: 1 }),
    key: WrappedKeyBody,
    values: Type.Array(
      Type.Object(
        {
          variable_id: Uuid,
          version: Type.Integer({ minimum: 2, description: 'The version this write creates (the current one + 1), bound into the ciphertext' }),
          value: Type.String({ maxLength: 2 * 1024 * 1024 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 10_000, description: 'Every live variable of the project, re-encrypted under the new key' },
    ),
  },
  { additionalProperties: false },
);

export const RotateKeyView = Type.Object({ key_version: Type.Integer(), reencrypted: Type.Integer() });

export function toProjectKeyView(organizationId: string, key: ProjectKey) {
  return {
    organization_id: organizationId,
    project_id: key.project_id,
    key_version: key.key_version,
    wrapped_key: key.wrapped_key,
    salt: key.salt,
    kdf: { algorithm: 'argon2id' as const, memory_kib: key.kdf_memory_kib, iterations: key.kdf_iterations, parallelism: key.kdf_parallelism },
    updated_at: key.updated_at.toISOString(),
  };
}

export const KeyValuesView = Type.Object({
  key_version: Type.Integer(),
  items: Type.Array(
    Type.Object({
      variable_id: Uuid,
      key: Type.String(),
      type: Type.String(),
      scope: Type.String(),
      environment_id: Type.Union([Uuid, Type.Null()]),
      service_id: Type.Union([Uuid, Type.Null()]),
      assignee_user_id: Type.Union([Uuid, Type.Null()]),
      version: Type.Integer(),
      value: Type.String({ description: 'Client ciphertext' }),
    }),
  ),
});
