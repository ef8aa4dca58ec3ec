import type { Kysely } from 'kysely';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import { webhookRoutes } from './routes.js';
import { createWebhooksService } from './service.js';

/**
 * Webhooks (issue #14 §2): managed here; queued by changes/record.ts in the transaction of each
 * change (enqueue.ts) and sent by the delivery worker (worker.ts) that every instance runs.
 */
export function register(app: App, deps: { db: Kysely<Database>; keyring: Keyring; allowPrivate: boolean }) {
  webhookRoutes(app, createWebhooksService(deps));
}

export { startDeliveryWorker, type DeliveryOptions } from './worker.js';
