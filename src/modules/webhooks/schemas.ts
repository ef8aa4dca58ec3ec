import { Type, type Static } from 'typebox';
import { PageQuery, Slug, Timestamp, Uuid } from '../../kernel/http/schemas.js';

const EventPattern = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^(\\*|[a-z_]+\\.(\\*|[a-z_]+))$',
  description: 'variable.changed, deployment.triggered, deployment.finished, a family ("deployment.*") or "*"',
});
const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL the events are POSTed to' });
const WebhookPath = Type.String({ minLength: 1, maxLength: 200, pattern: '^[a-z0-9][a-z0-9-]{0,62}(/[a-z0-9][a-z0-9-]{0,62})?$', description: 'project or project/environment; absent: the whole organization' });

export const CreateWebhookBody = Type.Object(
  { url: Url, path: Type.Optional(WebhookPath), events: Type.Array(EventPattern, { minItems: 1, maxItems: 20 }) },
  { additionalProperties: false },
);
export type CreateWebhookInput = Static<typeof CreateWebhookBody>;

export const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(Url),
    path: Type.Optional(Type.Union([WebhookPath, Type.Null()])),
    events: Type.Optional(Type.Array(EventPattern, { minItems: 1, maxItems: 20 })),
    enabled: Type.Optional(Type.Boolean({ description: 'true re-enables a disabled webhook and resets its failure count' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateWebhookInput = Static<typeof UpdateWebhookBody>;

export const WebhookParams = Type.Object({ org: Slug, webhook_id: Uuid });
export const DeliveryParams = Type.Object({ org: Slug, webhook_id: Uuid, delivery_id: Uuid });
export const DeliveryListQuery = PageQuery;

export const WebhookView = Type.Object({
  id: Uuid,
  url: Type.String(),
  path: Type.Union([Type.String(), Type.Null()]),
  events: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  consecutive_failures: Type.Integer(),
  disabled_reason: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const CreatedWebhookView = Type.Object({
  ...WebhookView.properties,
  secret: Type.String({ description: 'The signing secret, shown this once: verify X-Coffer-Signature with it' }),
});

export const DeliveryView = Type.Object({
  id: Uuid,
  event: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  last_status_code: Type.Union([Type.Integer(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  latency_ms: Type.Union([Type.Integer(), Type.Null(), ], { description: 'of the last attempt' }),
  next_attempt_at: Type.Union([Timestamp, Type.Null()]),
  redelivery_of: Type.Union([Uuid, Type.Null()]),
  payload: Type.String({ description: 'The JSON body sent (keys and versions, never values)' }),
  created_at: Timestamp,
  completed_at: Type.Union([Timestamp, Type.Null()]),
});
