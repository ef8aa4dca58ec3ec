import { Readable } from 'node:stream';
import { Type } from 'typebox';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf } from '../../kernel/http/context.js';
import { errorResponses, OrgParams } from '../../kernel/http/schemas.js';
import { AuditListQuery, AuditPage, ChainCheck, CheckpointKey, EventParams, EventView, ExportQuery, IngestBody, SignedCheckpoint, VerifyBody, VerifyResult } from './schemas.js';
import type { AuditService, EventView as EventRecord } from './service.js';

const tags = ['audit'];

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

function csvRow(event: EventRecord): string {
  const flat: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    ...event,
    actor_type: event.actor.type,
    actor_id: event.actor.id,
    actor_name: event.actor.name,
  };
  return `${CSV_COLUMNS.map((column) => csvCell(flat[column])).join(',')}\r\n`;
}

export function auditRoutes(app: App, service: () => AuditService) {
  app.get('/orgs/:org/audit-events', {
    config: { access: { action: 'audit:read', resource: 'organization' } },
    schema: {
      tags,
      summary: 'Audit events, newest first, filtered; follow next_cursor for older ones',
      params: OrgParams,
      querystring: AuditListQuery,
      response: { 200: AuditPage, ...errorResponses },
    },
    handler: async (request) => service().list(accessOf(request), request.query),
  });

  app.get('/orgs/:org/audit-events/verify', {
    config: { access: { action: 'audit:read', resource: 'organization' } },
    schema: {
      tags,
      summary: 'Recompute the hash chain and name the first event that breaks it',
      params: OrgParams,
      response: { 200: ChainCheck, ...errorResponses },
    },
    handler: async (request) => service().verify(accessOf(request)),
  });

  app.get('/orgs/:org/audit-events/checkpoint', {
    config: { access: { action: 'audit:read', resource: 'organization' } },
    schema: {
      tags,
      summary: "A signed checkpoint of the chain's head (Ed25519, key outside the database): keep it elsewhere",
      params: OrgParams,
      response: { 200: SignedCheckpoint, ...errorResponses },
    },
    handler: async (request) => service().checkpoint(accessOf(request)),
  });

  app.get('/orgs/:org/audit-events/checkpoint-key', {
    config: { access: { action: 'audit:read', resource: 'organization' } },
    schema: {
      tags,
      summary: 'The public key checkpoints are signed with, to verify them without Coffer (see the README)',
      params: OrgParams,
      response: { 200: CheckpointKey, ...errorResponses },
    },
    handler: async () => service().checkpointKey(),
  });

  app.post('/orgs/:org/audit-events/verify', {
    config: { access: { action: 'audit:read', resource: 'organization' } },
    schema: {
      tags,
      summary: 'Verify the chain and that it extends each checkpoint saved earlier',
      params: OrgParams,
      body: VerifyBody,
      response: { 200: VerifyResult, ...errorResponses },
    },
    handler: async (request) => service().verify(accessOf(request), request.body.checkpoints),
  });

  app.get('/orgs/:org/audit-events/export', {
    config: { access: { action: 'audit:read', resource: 'organization' } },
    schema: {
      tags,
      summary: 'Every matching event as JSON lines or CSV, streamed',
      params: OrgParams,
      querystring: ExportQuery,
    },
    handler: async (request, reply) => {
      const { format = 'jsonl', ...filters } = request.query;
      const events = service().stream(accessOf(request), filters);
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
      return service().purge(organization.id, organization.retention_days, new Date(), accessOf(request).audit);
    },
  });

  app.get('/orgs/:org/audit-events/:event_id', {
    config: { access: { action: 'audit:read', resource: 'organization' } },
    schema: {
      tags,
      summary: 'One audit event in full',
      params: EventParams,
      response: { 200: EventView, ...errorResponses },
    },
    handler: async (request) => service().get(accessOf(request), request.params.event_id),
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
    handler: async (request, reply) => reply.code(201).send(await service().ingest(accessOf(request), request.body)),
  });
}
