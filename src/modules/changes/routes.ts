import type { TObject } from 'typebox';
import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf } from '../../kernel/http/context.js';
import { EnvironmentParams, ServiceParams, errorResponses } from '../../kernel/http/schemas.js';
import { resourceOf } from '../../kernel/authz/scope.js';
import { invalid } from '../../kernel/errors.js';
import { createChangesRepo } from './repo.js';
import { changeView } from './record.js';

const tags = ['variables'];
const HEARTBEAT_MS = 15_000;

const PLACES: { base: string; params: TObject; resource: 'environment' | 'service' }[] = [
  { base: '/orgs/:org/projects/:project/environments/:env', params: EnvironmentParams, resource: 'environment' },
  { base: '/orgs/:org/projects/:project/environments/:env/services/:service', params: ServiceParams, resource: 'service' },
];

/** The event id a client resumes after; anything but a whole number is a 400 naming the header. */
function resumeAfter(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header[0]! : header;
  if (!/^\d{1,15}$/.test(text)) throw invalid('headers.last-event-id', 'must be the id of an event this stream sent');
  return Number(text);
}

/**
 * The change stream (issue #14 §2): Server-Sent Events, one per change that reaches the place,
 * keys and versions only. Ids are change ids, so `Last-Event-ID` resumes exactly after the last
 * event seen, replaying what happened while the client was away (a server restart included).
 * Every instance serves it from the changes table, so it needs nothing shared but the database.
 */
export function changeRoutes(app: App, deps: { db: Kysely<Database>; pollMs: number }) {
  const repo = createChangesRepo(deps.db);
  const open = new Set<() => void>();
  // Before the server stops accepting: an open stream would otherwise hold the shutdown.
  app.addHook('preClose', async () => {
    for (const close of open) close();
  });

  for (const { base, params, resource } of PLACES) {
    app.get(`${base}/changes`, {
      // Keys and versions are what secret:read lists; values never travel here.
      config: { access: { action: 'secret:read', resource } },
      schema: {
        tags,
        summary: `Stream of variable changes reaching ${resource === 'service' ? 'a service' : 'an environment'} (text/event-stream)`,
        description:
          'Server-Sent Events: `id:` is the change id, `event: variable.changed`, `data:` JSON with key, type, scope, version and operation (never a value). ' +
          'Changes at organization and project scope that reach the place are included. Send `Last-Event-ID` to resume after an event; without it the stream starts with the next change.',
        params,
        // Declared so that clients (and fuzzers) driven by the OpenAPI document know it never ends.
        response: { 200: { description: 'An endless stream of Server-Sent Events', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...errorResponses },
      },
      handler: async (request, reply) => {
        const access = accessOf(request, resource);
        const place = resourceOf(access.scope, resource);
        const ids = {
          organizationId: place.organization.id,
          projectId: place.project.id,
          environmentId: place.environment.id,
          serviceId: place.kind === 'service' ? place.service.id : null,
          memberId: access.principal.kind === 'user' ? access.principal.user.id : null,
        };
        let last = resumeAfter(request.headers['last-event-id']) ?? (await repo.latest(ids.organizationId));

        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no', 'x-request-id': request.id });
        raw.write(`retry: 2000\n: changes after ${last}\n\n`);
        let closed = false;
        let wake: (() => void) | undefined;
        const close = () => {
          closed = true;
          wake?.();
          raw.end();
        };
        open.add(close);
        request.raw.on('close', close);
        let quiet = 0;
        try {
          while (!closed) {
            const rows = await repo.after(ids, last, 100);
            for (const row of rows) {
              raw.write(`id: ${row.id}\nevent: variable.changed\ndata: ${JSON.stringify(changeView(row))}\n\n`);
              last = Number(row.id);
            }
            quiet = rows.length > 0 ? 0 : quiet + deps.pollMs;
            if (quiet >= HEARTBEAT_MS) {
              raw.write(': still here\n\n');
              quiet = 0;
            }
            if (rows.length < 100) await new Promise<void>((resolve) => ((wake = resolve), setTimeout(resolve, deps.pollMs)));
          }
        } catch (error) {
          request.log.error({ err: error }, 'change stream failed');
        } finally {
          open.delete(close);
          if (!raw.writableEnded) raw.end();
        }
      },
    });
  }
}
