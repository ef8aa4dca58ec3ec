import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import { recordDeniedRequests } from './access-denied.js';
import { auditRoutes } from './routes.js';
import type { KeyProvider } from '../../kernel/crypto/key-provider.js';
import { openAuditKeys, type AuditKeys } from './audit-keys.js';
import { createAuditService, type AuditService } from './service.js';

/** The audit log's keys and its service, as a process holds them. */
export interface OpenedAudit {
  keys: AuditKeys;
  service: AuditService;
}

/**
 * Opens the audit keys and builds the audit service, once per process: the composition root
 * (server.ts) does it and hands the result to buildApp and to the housekeeping.
 */
export async function openAudit(db: Kysely<Database>, rootKey: Buffer, provider: KeyProvider): Promise<OpenedAudit> {
  const keys = await openAuditKeys(db, rootKey, provider);
  return { keys, service: createAuditService({ db, signingKey: keys.signingKey }) };
}

/**
 * The audit log's routes, and the record of refused requests (ACCESS_DENIED). The service
 * comes from openAudit, called once by the caller, since the server's housekeeping
 * (retention, checkpoints) uses the same one; the routes ask for it when called, since the
 * server builds them while the database (and so the audit keys) opens.
 */
export function register(app: App, deps: { db: Kysely<Database>; audit: () => AuditService }) {
  recordDeniedRequests(app, deps.db);
  auditRoutes(app, deps.audit);
}
