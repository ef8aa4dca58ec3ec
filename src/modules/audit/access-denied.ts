import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import { recordAudit } from './recorder.js';

/**
 * SPEC §6: refused requests inside an organization are recorded too (who, what action,
 * which resource). The guard and services mark the request (`request.denied`); the event
 * is written before the refusal is sent, and a failure to write it is logged, never sent.
 */
export function recordDeniedRequests(app: FastifyInstance, db: Kysely<Database>): void {
  // With `done`, not async: this runs on every response, and almost none was refused.
  app.addHook('onSend', (request, _reply, payload, done) => {
    if (!request.denied || !request.access) return done(null, payload);
    const { action, resource } = request.denied;
    const context = request.access.audit;
    request.denied = null;
    const target: { id: string; slug?: string; name: string } =
      resource.kind === 'organization'
        ? resource.organization
        : resource.kind === 'cluster'
          ? resource.cluster
          : resource.kind === 'project'
            ? resource.project
            : resource.kind === 'environment'
              ? resource.environment
              : resource.service;
    const name = target.slug ?? target.name;
    void db
      .transaction()
      .execute((tx) =>
        recordAudit(tx, context, [
          {
            event_type: 'ACCESS_DENIED',
            target_type: resource.kind,
            target_id: target.id,
            target_name: name,
            change: `Refused ${action} on ${resource.kind} ${name}`,
            details: { action, method: request.method, route: request.routeOptions.url },
          },
        ]),
      )
      .catch((error: unknown) => request.log.error({ err: error }, 'could not record ACCESS_DENIED'))
      .then(() => done(null, payload));
  });
}
