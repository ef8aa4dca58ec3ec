import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database, Webhook, WebhookDelivery } from '../../kernel/db/schema.js';

export function createWebhooksRepo(db: Kysely<Database>) {
  return {
    insert: (row: Pick<Webhook, 'id' | 'organization_id' | 'project_id' | 'environment_id' | 'url' | 'events' | 'secret_sealed' | 'data_key_id'>) =>
      db.insertInto('webhooks').values(row).returningAll().executeTakeFirstOrThrow(),

    list: (organizationId: string) => db.selectFrom('webhooks').selectAll().where('organization_id', '=', organizationId).orderBy('created_at').orderBy('id').execute(),

    find: (organizationId: string, id: string, lock = false) => {
      const query = db.selectFrom('webhooks').selectAll().where('organization_id', '=', organizationId).where('id', '=', id);
      return (lock ? query.forUpdate() : query).executeTakeFirst();
    },

    update: (id: string, values: Partial<Pick<Webhook, 'url' | 'events' | 'project_id' | 'environment_id' | 'enabled' | 'consecutive_failures' | 'disabled_reason'>>) =>
      db.updateTable('webhooks').set({ ...values, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),

    delete: (id: string) => db.deleteFrom('webhooks').where('id', '=', id).execute(),

    /** Slugs of the place a webhook is limited to. */
    placeSlugs: (hook: Pick<Webhook, 'project_id' | 'environment_id'>) =>
      db
        .selectFrom('projects as p')
        .leftJoin('environments as e', (join) => join.on('e.id', '=', hook.environment_id ?? '00000000-0000-0000-0000-000000000000'))
        .select(['p.slug as project', 'e.slug as environment'])
        .where('p.id', '=', hook.project_id ?? '00000000-0000-0000-0000-000000000000')
        .executeTakeFirst(),

    deliveries: (webhookId: string, before: string | undefined, limit: number) => {
      let query = db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId);
      if (before !== undefined) query = query.where(sql<boolean>`(created_at, id) < (select created_at, id from webhook_deliveries where id = ${before}::uuid)`);
      return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    },

    delivery: (webhookId: string, id: string) => db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).where('id', '=', id).executeTakeFirst(),

    requeue: (original: WebhookDelivery) =>
      db
        .insertInto('webhook_deliveries')
        .values({ id: randomUUID(), webhook_id: original.webhook_id, event: original.event, payload: original.payload, status: 'pending', redelivery_of: original.id })
        .returningAll()
        .executeTakeFirstOrThrow(),

    /**
     * Claims up to `limit` due deliveries of enabled webhooks in one statement: FOR UPDATE SKIP
     * LOCKED lets instances claim side by side without waiting or sharing a row, and the claim
     * itself (attempts + 1, due again only after the lease) keeps a row from being sent by
     * another instance while this one is sending it. A crash mid-send leaves the row to be
     * claimed again once the lease ends: at-least-once, never two senders of one attempt.
     */
    claim: (limit: number, leaseMs: number) =>
      sql<WebhookDelivery & { url: string; secret_sealed: Buffer; data_key_id: string; organization_id: string }>`
        with due as (
          select d.id from webhook_deliveries d join webhooks w on w.id = d.webhook_id
          where d.status = 'pending' and d.next_attempt_at <= now() and w.enabled
          order by d.next_attempt_at
          limit ${limit}
          for update of d skip locked
        ), claimed as (
          update webhook_deliveries d set attempts = d.attempts + 1, next_attempt_at = now() + ${leaseMs} * interval '1 millisecond'
          from due where d.id = due.id
          returning d.*
        )
        select claimed.*, w.url, w.secret_sealed, w.data_key_id, w.organization_id
        from claimed join webhooks w on w.id = claimed.webhook_id
      `
        .execute(db)
        .then((result) => result.rows),

    /** The outcome of one attempt; `attempt` guards against a sender whose lease has already passed to another. */
    finish: (id: string, attempt: number, values: { status: WebhookDelivery['status']; next_attempt_at?: Date; last_status_code: number | null; last_error: string | null; latency_ms: number }) =>
      db
        .updateTable('webhook_deliveries')
        .set({ ...values, completed_at: values.status === 'pending' ? null : new Date() })
        .where('id', '=', id)
        .where('attempts', '=', attempt)
        .executeTakeFirst()
        .then((result) => Number(result.numUpdatedRows) === 1),

    /**
     * Counts an enabled webhook's failure in a row (or resets it) and answers the new count, the
     * row locked; an attempt finishing after the webhook was disabled counts for nothing.
     */
    countFailure: (webhookId: string, failed: boolean) =>
      db
        .updateTable('webhooks')
        .set((eb) => ({ consecutive_failures: failed ? eb('consecutive_failures', '+', 1) : 0 }))
        .where('id', '=', webhookId)
        .where('enabled', '=', true)
        .returning(['consecutive_failures', 'enabled'])
        .executeTakeFirst(),
  };
}
