import type { Kysely } from 'kysely';
import { open } from '../../kernel/crypto/aead.js';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { Database } from '../../kernel/db/schema.js';
import { withAudit } from '../audit/recorder.js';
import { VERSION } from '../../version.js';
import { post } from './destination.js';
import { createWebhooksRepo } from './repo.js';
import { secretAad, signatureHeader } from './signature.js';

export interface DeliveryOptions {
  pollMs: number;
  /** The first retry waits this long, each later one twice the one before (capped at an hour). */
  retryBaseMs: number;
  maxAttempts: number;
  /** Failed attempts in a row after which a webhook is disabled (an audit event says so). */
  disableAfter: number;
  timeoutMs: number;
  allowPrivate: boolean;
}

const BATCH = 10;

export const retryDelayMs = (options: Pick<DeliveryOptions, 'retryBaseMs'>, attempt: number) => Math.min(options.retryBaseMs * 2 ** (attempt - 1), 3600_000);

/**
 * The outbox's sender. Every instance runs one; they share the work through the claim in
 * repo.ts. Stopping waits for the attempts in flight, so a graceful shutdown loses nothing
 * and a crash loses only a lease's wait.
 */
export function startDeliveryWorker(deps: { db: Kysely<Database>; keyring: Keyring; options: DeliveryOptions; onError?: (error: unknown) => void }) {
  const { db, keyring, options } = deps;
  const repo = createWebhooksRepo(db);
  // Longer than any attempt can take, so a live sender always finishes inside its lease.
  const leaseMs = options.timeoutMs * 2 + 5000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  async function attempt(row: Awaited<ReturnType<typeof repo.claim>>[number]) {
    const keys = await keyring.byIds(db, [row.data_key_id]);
    const secret = open(keys.get(row.data_key_id)!, row.secret_sealed, secretAad(row.webhook_id)).toString('utf8');
    const headers = {
      'x-coffer-signature': signatureHeader(secret, row.payload, Math.floor(Date.now() / 1000)),
      'x-coffer-event': row.event,
      'x-coffer-delivery': row.id,
      'x-coffer-attempt': String(row.attempts),
      'user-agent': `Coffer-Webhooks/${VERSION}`,
    };
    const started = performance.now();
    const result = await post(row.url, row.payload, headers, options);
    const latency_ms = Math.round(performance.now() - started);
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    const error = ok ? null : (result.error ?? `answered ${result.status}`);
    const retry = !ok && row.attempts < options.maxAttempts;
    const status = ok ? 'succeeded' : retry ? 'pending' : 'failed';
    const next_attempt_at = retry ? new Date(Date.now() + retryDelayMs(options, row.attempts)) : undefined;
    const recorded = await repo.finish(row.id, row.attempts, { status, next_attempt_at, last_status_code: result.status, last_error: error, latency_ms });
    if (recorded) await countOutcome(row.organization_id, row.webhook_id, ok);
  }

  /** Failures in a row disable a webhook, in the transaction of the audit event that says so. */
  async function countOutcome(organizationId: string, webhookId: string, ok: boolean) {
    const system = { organizationId, actor: { type: 'system' as const, id: null, name: 'webhook delivery' }, tool: 'API' as const, ip: null, requestId: null };
    await withAudit(db, system, async (tx, note) => {
      const txRepo = createWebhooksRepo(tx);
      const counted = await txRepo.countFailure(webhookId, !ok);
      if (!counted || !counted.enabled || counted.consecutive_failures < options.disableAfter) return;
      const hook = await txRepo.update(webhookId, { enabled: false, disabled_reason: `${counted.consecutive_failures} failed deliveries in a row` });
      note({
        event_type: 'UPDATE',
        target_type: 'webhook',
        target_id: webhookId,
        target_name: new URL(hook.url).origin,
        change: `Disabled webhook to ${new URL(hook.url).origin} after ${counted.consecutive_failures} failed deliveries in a row`,
        details: { before: { enabled: true }, after: { enabled: false }, consecutive_failures: counted.consecutive_failures },
      });
    });
  }

  async function tick(): Promise<void> {
    let claimed = 0;
    try {
      const rows = await repo.claim(BATCH, leaseMs);
      claimed = rows.length;
      await Promise.all(rows.map((row) => attempt(row).catch((error: unknown) => deps.onError?.(error))));
    } catch (error) {
      deps.onError?.(error);
    }
    // A full batch means more are due: go on at once.
    if (!stopped) timer = setTimeout(() => (running = tick()), claimed === BATCH ? 0 : options.pollMs);
  }

  timer = setTimeout(() => (running = tick()), 0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
