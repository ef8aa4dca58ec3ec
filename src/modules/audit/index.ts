import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import { recordDeniedRequests } from './access-denied.js';
import { auditRoutes } from './routes.js';
import type { AuditService } from './service.js';

/**
 * The audit log's routes, and the record of refused requests (ACCESS_DENIED). The service
 * is built by the caller, once, since the server's housekeeping (retention, checkpoints)
 * uses the same one.
 */
export function register(app: App, deps: { db: Kysely<Database>; audit: AuditService }) {
  recordDeniedRequests(app, deps.db);
  auditRoutes(app, deps.audit);
}
