import { Type } from 'typebox';
import { VARIABLE_SCOPES, VARIABLE_TYPES } from '../../kernel/db/schema.js';
import { Timestamp, Uuid } from '../../kernel/http/schemas.js';
import { KEY_PATTERN, MAX_FILE_BYTES, MAX_KEY_LENGTH } from './rules.js';
import { FORMATS } from './formats.js';

export const VariableType = Type.Enum(VARIABLE_TYPES);

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

/** Loose on purpose: validatePgService gives errors that name the libpq rule broken. */
export const PgServiceInput = Type.Object(
  {
    service: Type.String({ minLength: 1, maxLength: 63 }),
    dbname: Type.Optional(Type.String()),
    user: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    host: Type.Optional(Type.String()),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    sslmode: Type.Optional(Type.Enum(SSL_MODES)),
    extra: Type.Optional(Type.Record(Type.String(), Type.String(), { maxProperties: 64 })),
  },
  { additionalProperties: false },
);

// Key and size rules are checked by rules.ts so each 400 names the field and the rule in words.
const Key = Type.String({ maxLength: MAX_KEY_LENGTH * 4, description: `${KEY_PATTERN}, at most ${MAX_KEY_LENGTH} characters` });
const Value = Type.String({ maxLength: MAX_FILE_BYTES * 2, description: 'At most 64 KiB (files 1 MiB) of UTF-8' });
const MountPath = Type.String({ maxLength: 8192, description: 'Absolute path a file variable is delivered at' });

export const CreateVariableBody = Type.Object(
  {
    key: Type.Optional(Key),
    type: Type.Optional(VariableType),
    value: Type.Optional(Value),
    pg_service: Type.Optional(PgServiceInput),
    mount_path: Type.Optional(MountPath),
    immutable: Type.Optional(Type.Boolean()),
    assignee_user_id: Type.Optional(Uuid),
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'Client-managed projects only: the version the ciphertext is bound to (1 here)' })),
  },
  { additionalProperties: false },
);

export const UpdateVariableBody = Type.Object(
  {
    type: Type.Optional(VariableType),
    value: Type.Optional(Value),
    pg_service: Type.Optional(PgServiceInput),
    mount_path: Type.Optional(Type.Union([MountPath, Type.Null()])),
    version: Type.Optional(Type.Integer({ minimum: 2, description: 'Client-managed projects only (and required there): the version this write creates, which the ciphertext is bound to; 409 if another write came first' })),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** At most this many variables a batch: what one import of a large .env or dump needs, under the body limit. */
export const MAX_BATCH = 10_000;

export const BatchBody = Type.Object(
  {
    variables: Type.Array(
      Type.Object(
        {
          key: Key,
          value: Value,
          type: Type.Optional(Type.Enum(['plain', 'secret'] as const, { description: 'Without it, a new variable is plain and an existing one keeps its type' })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_BATCH },
    ),
    dry_run: Type.Optional(Type.Boolean({ description: 'Validate and compare, write nothing' })),
  },
  { additionalProperties: false },
);

export const BatchResult = Type.Object({
  dry_run: Type.Boolean(),
  created: Type.Array(Type.String(), { description: 'Keys created (or that would be)' }),
  updated: Type.Array(Type.String(), { description: 'Keys whose value or type changed' }),
  unchanged: Type.Array(Type.String(), { description: 'Keys already holding this value and type: left alone' }),
});

export const RollbackBody = Type.Object({ version: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });

const MaskedPgService = Type.Object({
  service: Type.String(),
  dbname: Type.Optional(Type.String()),
  user: Type.Optional(Type.String()),
  password: Type.Optional(Type.String({ description: 'Masked' })),
  host: Type.Optional(Type.String()),
  port: Type.Optional(Type.Integer()),
  sslmode: Type.Optional(Type.String()),
  extra: Type.Record(Type.String(), Type.String(), { description: 'Values masked' }),
});

export const VariableView = Type.Object({
  id: Uuid,
  scope: Type.Enum(VARIABLE_SCOPES),
  key: Type.Union([Type.String(), Type.Null()], { description: 'Null for pg_service entries, named by their service' }),
  type: VariableType,
  value: Type.Union([Type.String(), Type.Null()], { description: 'Plain values in clear; secret and file values masked; null for pg_service' }),
  pg_service: Type.Optional(MaskedPgService),
  encryption: Type.Optional(Type.Literal('client', { description: 'Present for client-managed projects: value is client ciphertext (plain) or a fixed placeholder' })),
  mount_path: Type.Union([Type.String(), Type.Null()]),
  immutable: Type.Boolean(),
  version: Type.Integer(),
  assignee_user_id: Type.Union([Uuid, Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const VersionView = Type.Object({
  version: Type.Integer(),
  operation: Type.Enum(['CREATE', 'UPDATE', 'DELETE', 'ROLLBACK']),
  type: VariableType,
  value: Type.Union([Type.String(), Type.Null()], { description: 'As in the variable view; null for a deletion' }),
  pg_service: Type.Optional(MaskedPgService),
  encryption: Type.Optional(Type.Literal('client', { description: 'Present for client-managed projects: value is client ciphertext (plain) or a fixed placeholder' })),
  mount_path: Type.Union([Type.String(), Type.Null()]),
  rolled_back_from: Type.Union([Type.Integer(), Type.Null()]),
  actor: Type.Object({ type: Type.String(), id: Type.Union([Uuid, Type.Null()]), name: Type.String() }),
  created_at: Timestamp,
});

export const VariableListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  cursor: Type.Optional(Type.String({ maxLength: 1024, description: 'next_cursor of the previous page' })),
});

export const VersionListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'next_cursor of the previous page' })),
});

export const ResolveQuery = Type.Object({
  format: Type.Optional(Type.Enum(FORMATS, { default: 'json' })),
  member: Type.Optional(Type.String({ format: 'uuid', description: 'Resolve on behalf of this member (needs authz:check unless it is you)' })),
  explain: Type.Optional(Type.Boolean({ description: 'With format=json: where each key comes from (overrides, references, omitted reasons), values masked' })),
});

