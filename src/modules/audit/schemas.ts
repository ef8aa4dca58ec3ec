import { Type } from 'typebox';
import { Slug, Timestamp, Uuid } from '../../kernel/http/schemas.js';
import { TOOLS } from '../../kernel/http/audit-context.js';
import { PLATFORM_EVENT_TYPES } from './platform-events.js';

const Filters = {
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  event_type: Type.Optional(Type.String({ maxLength: 64 })),
  target_type: Type.Optional(Type.String({ maxLength: 64 })),
  target: Type.Optional(Type.String({ maxLength: 300, description: 'Target id or name' })),
  actor: Type.Optional(Type.String({ maxLength: 300, description: 'Actor id, email or token name' })),
  tool: Type.Optional(Type.Enum(TOOLS)),
};

export const EventView = Type.Object({
  id: Uuid,
  seq: Type.Integer(),
  occurred_at: Timestamp,
  event_type: Type.String(),
  target_type: Type.String(),
  target_id: Type.Union([Type.String(), Type.Null()]),
  target_name: Type.Union([Type.String(), Type.Null()]),
  change: Type.String(),
  actor: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]), name: Type.String() }),
  tool: Type.String(),
  source_ip: Type.Union([Type.String(), Type.Null()]),
  request_id: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  hash: Type.String(),
  prev_hash: Type.String(),
});

export const IngestBody = Type.Object(
  {
    event_type: Type.String({
      pattern: '^[A-Z][A-Z0-9_]{1,63}$',
      description: `A platform event, one of ${PLATFORM_EVENT_TYPES.join(', ')}; the types Coffer writes itself are refused`,
    }),
    target_type: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }),
    target_id: Type.Optional(Type.String({ maxLength: 200 })),
    target_name: Type.Optional(Type.String({ maxLength: 300 })),
    change: Type.String({ minLength: 1, maxLength: 1000 }),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const AuditListQuery = Type.Object({
  ...Filters,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 64 })),
});
export const AuditPage = Type.Object({ items: Type.Array(EventView), next_cursor: Type.Union([Type.String(), Type.Null()]) });

export const ExportQuery = Type.Object({ ...Filters, format: Type.Optional(Type.Enum(['jsonl', 'csv'] as const, { default: 'jsonl' })) });

export const EventParams = Type.Object({ org: Slug, event_id: Type.String({ maxLength: 64 }) });

export const ChainCheck = Type.Object({ ok: Type.Boolean(), checked: Type.Integer(), first_bad_id: Type.Optional(Uuid), reason: Type.Optional(Type.String()) });

export const CheckpointSchema = Type.Object({
  checkpoint: Type.Object({
    organization: Type.String(),
    organization_id: Uuid,
    sequence: Type.Integer({ minimum: 0 }),
    head_hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    time: Timestamp,
  }),
  signature: Type.String({ maxLength: 200 }),
});
export const VerifyResult = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer(),
  first_bad_id: Type.Optional(Uuid),
  reason: Type.Optional(Type.String()),
  checkpoints: Type.Optional(Type.Array(Type.Object({ sequence: Type.Integer(), ok: Type.Boolean(), reason: Type.Optional(Type.String()) }))),
});

export const SignedCheckpoint = Type.Object({ ...CheckpointSchema.properties, public_key: Type.String() });

export const CheckpointKey = Type.Object({
  algorithm: Type.Literal('Ed25519'),
  public_key: Type.String({ description: 'SPKI, PEM' }),
  signed_message: Type.String({ description: 'What the signature covers' }),
});

export const VerifyBody = Type.Object({ checkpoints: Type.Array(CheckpointSchema, { maxItems: 10_000 }) }, { additionalProperties: false });
