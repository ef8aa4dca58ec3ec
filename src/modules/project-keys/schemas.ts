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

export const ConvertBody = Type.Object(
  {
    to: Type.Union([Type.Literal('client'), Type.Literal('server')], { description: 'The encryption model the project converts to' }),
    key: Type.Optional(WrappedKeyBody),
    current_key_version: Type.Optional(Type.Integer({ minimum: 1, description: 'to server: the key version the values were decrypted with' })),
    values: Type.Array(
      Type.Object(
        {
          variable_id: Uuid,
          version: Type.Integer({ minimum: 2, description: 'The version this write creates (the current one + 1); to client, bound into the ciphertext' }),
          value: Type.String({ maxLength: 2 * 1024 * 1024, description: 'to client: ciphertext under the new key; to server: the value in clear (sent over TLS, sealed by the server)' }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 10_000, description: 'Every live variable of the project, at its next version' },
    ),
  },
  { additionalProperties: false },
);

export const ConvertView = Type.Object({
  encryption: Type.Union([Type.Literal('client'), Type.Literal('server')]),
  reencrypted: Type.Integer({ description: 'Live values rewritten under the new model, each as a new version' }),
  purged_versions: Type.Integer({ description: 'Older versions deleted: none is re-encrypted, so no value readable under the old model survives' }),
  purged_deleted_variables: Type.Integer({ description: 'Deleted variables of the project removed with their history' }),
});

export const ConversionValuesView = Type.Object({
  organization_id: Uuid,
  project_id: Uuid,
  encryption: Type.Union([Type.Literal('client'), Type.Literal('server')]),
  key_version: Type.Union([Type.Integer(), Type.Null()]),
  items: Type.Array(
    Type.Object({
      variable_id: Uuid,
      key: Type.String(),
      type: Type.String(),
      scope: Type.String(),
      environment_id: Type.Union([Uuid, Type.Null()]),
      service_id: Type.Union([Uuid, Type.Null()]),
      assignee_user_id: Type.Union([Uuid, Type.Null()]),
      mount_path: Type.Union([Type.String(), Type.Null()]),
      version: Type.Integer(),
      value: Type.String({ description: 'In clear for a server-managed project; client ciphertext for a client-managed one' }),
    }),
  ),
});
