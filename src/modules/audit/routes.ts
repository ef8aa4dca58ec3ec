import { Readable } from 'node:stream';
import { Type } from 'typebox';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf } from '../../kernel/http/context.js';
import { Slug, Timestamp, Uuid, errorResponses, OrgParams } from '../../kernel/http/schemas.js';
import { TOOLS } from './context.js';
import { PLATFORM_EVENT_TYPES } from './platform-events.js';
import type { AuditService, EventView } from './service.js';

const tags = ['audit'];

const Filters = {
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  event_type: Type.Optional(Type.String({ maxLength: 64 })),
  target_type: Type.Optional(Type.String({ maxLength: 64 })),
  target: Type.Optional(Type.String({ maxLength: 300, description: 'Target id or name' })),
  actor: Type.Optional(Type.String({ maxLength: 300, description: 'Actor id, email or token name' })),
  tool: Type.Optional(Type.Enum(TOOLS)),
};

const EventView = Type.Object({
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

const IngestBody = Type.Object(
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

const CSV_COLUMNS = [
  'id', 'seq', 'occurred_at', 'event_type', 'target_type', 'target_id', 'target_name', 'change',
  'actor_type', 'actor_id', 'actor_name', 'tool', 'source_ip', 'request_id', 'details', 'hash',
] as const;

/** RFC 4180 quoting, and a leading ' on cells a spreadsheet would run as a formula. */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvRow(event: EventView): string {
  const flat: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    ...event,
    actor_type: event.actor.type,
    actor_id: event.actor.id,
    actor_name: event.actor.name,
  };
  return `${CSV_COLUMNS.map((column) => csvCell(flat[column])).join(',')}\r\n`;
}

export function auditRoutes(app: App, service: AuditService) {
  app.get('/orgs/:org/audit-events', {
    config: { access: { action: 'audit:read', resource: 'organization' } },
    schema: {
      tags,
      summary: 'Audit events, newest first, filtered; follow next_cursor for older ones',
      params: OrgParams,
      querystring: Type.Object({
        ...Filters,
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
        cursor: Type.Optional(Type.String({ maxLength: 64 })),
      }),
      response: { 200: Type.Object({ items: Type.Array(EventView), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses },
    },
    handler: async (request) => service.list(accessOf(request), request.query),
  });

  app.get('/orgs/:org/audit-events/verify', {
    config: { access: { action: 'audit:read', resource: 'organization' } },
    schema: {
      tags,
      summary: 'Recompute the hash chain and name the first event that breaks it',
      params: OrgParams,
      response: {
        200: Type.Object({ ok: Type.Boolean(), checked: Type.Integer(), first_bad_id: Type.Optional(Uuid), reason: Type.Optional(Type.String()) }),
        ...errorResponses,
      },
    },
    handler: async (request) => service.verify(accessOf(request)),
  });

  const CheckpointSchema = Type.Object({
    checkpoint: Type.Object({
      organization: Type.String(),
      organization_id: Uuid,
      sequence: Type.Integer({ minimum: 0 }),
      head_hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
      time: Timestamp,
    }),
    signature: Type.String({ maxLength: 200 }),
  });
  const VerifyResult = Type.Object({
    ok: Type.Boolean(),
    checked: Type.Integer(),
    first_bad_id: Type.Optional(Uuid),
    reason: Type.Optional(Type.String()),
    checkpoints: Type.Optional(Type.Array(Type.Object({ sequence: Type.Integer(), ok: Type.Boolean(), reason: Type.Optional(Type.String()) }))),
  });

  app.get('/orgs/:org/audit-events/checkpoint', {
    config: { access: { action: 'audit:read', resource: 'organization' } },
    schema: {
      tags,
      summary: "A signed checkpoint of the chain's head (Ed25519, key outside the database): keep it elsewhere",
      params: OrgParams,
      response: { 200: Type.Object({ ...CheckpointSchema.properties, public_key: Type.String() }), ...errorResponses },
    },
    handler: async (request) => service.checkpoint(accessOf(request)),
  });

  app.get('/orgs/:org/audit-events/checkpoint-key', {
    config: { access: { action: 'audit:read', resource: 'organization' } },
    schema: {
      tags,
      summary: 'The public key checkpoints are signed with, to verify them without Coffer (see the README)',
      params: OrgParams,
      response: {
        200: Type.Object({
          algorithm: Type.Literal('Ed25519'),
          public_key: Type.String({ description: 'SPKI, PEM' }),
          signed_message: Type.String({ description: 'What the signature covers' }),
        }),
        ...errorResponses,
      },
    },
    handler: async () => service.checkpointKey(),
  });

  app.post('/orgs/:org/audit-events/verify', {
    config: { access: { action: 'audit:read', resource: 'organization' } },
    schema: {
      tags,
      summary: 'Verify the chain and that it extends each checkpoint saved earlier',
      params: OrgParams,
      body: Type.Object({ checkpoints: Type.Array(CheckpointSchema, { maxItems: 10_000 }) }, { additionalProperties: false }),
      response: { 200: VerifyResult, ...errorResponses },
    },
    handler: async (request) => service.verify(accessOf(request), request.body.checkpoints),
  });

  app.get('/orgs/:org/audit-events/export', {
    config: { access: { action: 'audit:read', resource: 'organization' } },
    schema: {
      tags,
      summary: 'Every matching event as JSON lines or CSV, streamed',
      params: OrgParams,
      querystring: Type.Object({ ...Filters, format: Type.Optional(Type.Enum(['jsonl', 'csv'] as const, { default: 'jsonl' })) }),
    },
    handler: async (request, reply) => {
      const { format = 'jsonl', ...filters } = request.query;
      const events = service.stream(accessOf(request), filters);
      const lines = async function* () {
        if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
        for await (const event of events) yield format === 'csv' ? csvRow(event) : `${JSON.stringify(event)}\n`;
      };
      const org = (request.params as { org: string }).org;
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
        .header('content-disposition', `attachment; filename="${org}-audit.${format}"`)
        .send(Readable.from(lines()));
    },
  });

  app.post('/orgs/:org/audit-events/purge', {
    config: { access: { action: 'organization:setup', resource: 'organization' } },
    schema: {
      tags,
      summary: "Remove events older than the organization's retention_days now (the server also does it hourly)",
      params: OrgParams,
      response: { 200: Type.Object({ purged: Type.Integer() }), ...errorResponses },
    },
    handler: async (request) => {
      const { organization } = accessOf(request).scope;
      return service.purge(organization.id, organization.retention_days, new Date(), accessOf(request).audit);
    },
  });

  app.get('/orgs/:org/audit-events/:event_id', {
    config: { access: { action: 'audit:read', resource: 'organization' } },
    schema: {
      tags,
      summary: 'One audit event in full',
      params: Type.Object({ org: Slug, event_id: Type.String({ maxLength: 64 }) }),
      response: { 200: EventView, ...errorResponses },
    },
    handler: async (request) => service.get(accessOf(request), request.params.event_id),
  });

  app.post('/orgs/:org/audit-events', {
    config: { access: { action: 'audit:write', resource: 'organization' } },
    schema: {
      tags,
      summary: 'Record what a platform did (TRIGGER_DEPLOYMENT, SHELL_SESSION, …); the actor is the caller, and the event types Coffer writes itself are refused',
      params: OrgParams,
      body: IngestBody,
      response: { 201: EventView, ...errorResponses },
    },
    handler: async (request, reply) => reply.code(201).send(await service.ingest(accessOf(request), request.body)),
  });
}
