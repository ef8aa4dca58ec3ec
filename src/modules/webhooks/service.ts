import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { seal } from '../../kernel/crypto/aead.js';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { Database, Webhook, WebhookDelivery } from '../../kernel/db/schema.js';
import { conflict, invalid, notFound } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { decodeCursor, toPage } from '../../kernel/http/pagination.js';
import { isUuid } from '../../kernel/ids.js';
import { withAudit } from '../audit/recorder.js';
import { WEBHOOK_EVENTS } from './enqueue.js';
import { refusedUrl } from './destination.js';
import { createWebhooksRepo } from './repo.js';
import type { CreateWebhookInput, UpdateWebhookInput } from './schemas.js';
import { newSigningSecret, secretAad } from './signature.js';

/** The audit log names a webhook by its origin: a URL's path or query may carry a receiver's token. */
const originOf = (url: string) => new URL(url).origin;

function checkEvents(events: string[]): string {
  for (const [index, pattern] of events.entries()) {
    const family = pattern.endsWith('.*') ? pattern.slice(0, -1) : null;
    const known = pattern === '*' || (WEBHOOK_EVENTS as readonly string[]).includes(pattern) || (family !== null && WEBHOOK_EVENTS.some((event) => event.startsWith(family)));
    if (!known) throw invalid(`body.events.${index}`, `is not an event; use ${WEBHOOK_EVENTS.join(', ')}, a family such as deployment.* or *`);
  }
  return JSON.stringify([...new Set(events)]);
}

export function createWebhooksService(deps: { db: Kysely<Database>; keyring: Keyring; allowPrivate: boolean }) {
  const { db, keyring } = deps;

  function checkUrl(url: string): string {
    const refused = refusedUrl(url, deps.allowPrivate);
    if (refused) throw invalid('body.url', refused);
    return url;
  }

  /** "shop" or "shop/production" to ids, within the organization; a missing one is a 400 on `path`. */
  async function placeOf(organizationId: string, path: string | null | undefined) {
    if (!path) return { project_id: null, environment_id: null };
    const [projectSlug, environmentSlug] = path.split('/');
    const project = await db.selectFrom('projects').select('id').where('organization_id', '=', organizationId).where('slug', '=', projectSlug!).executeTakeFirst();
    if (!project) throw invalid('body.path', `no project ${projectSlug} in this organization`);
    if (environmentSlug === undefined) return { project_id: project.id, environment_id: null };
    const environment = await db.selectFrom('environments').select('id').where('project_id', '=', project.id).where('slug', '=', environmentSlug).executeTakeFirst();
    if (!environment) throw invalid('body.path', `no environment ${environmentSlug} in project ${projectSlug}`);
    return { project_id: project.id, environment_id: environment.id };
  }

  async function view(hook: Webhook) {
    const slugs = hook.project_id === null ? undefined : await createWebhooksRepo(db).placeSlugs(hook);
    return {
      id: hook.id,
      url: hook.url,
      path: slugs ? [slugs.project, slugs.environment].filter((part) => part !== null).join('/') : null,
      events: JSON.parse(hook.events) as string[],
      enabled: hook.enabled,
      consecutive_failures: hook.consecutive_failures,
      disabled_reason: hook.disabled_reason,
      created_at: hook.created_at.toISOString(),
      updated_at: hook.updated_at.toISOString(),
    };
  }

  async function load(access: RequestAccess, id: string) {
    const hook = isUuid(id) ? await createWebhooksRepo(db).find(access.scope.organization.id, id) : undefined;
    if (!hook) throw notFound('Webhook');
    return hook;
  }

  return {
    async create(access: RequestAccess, input: CreateWebhookInput) {
      const organizationId = access.scope.organization.id;
      const url = checkUrl(input.url);
      const events = checkEvents(input.events);
      const place = await placeOf(organizationId, input.path);
      const secret = newSigningSecret();
      const hook = await withAudit(db, access.audit, async (tx, note) => {
        const id = randomUUID();
        const dataKey = await keyring.forOwner(tx, organizationId, null);
        const created = await createWebhooksRepo(tx).insert({ id, organization_id: organizationId, ...place, url, events, secret_sealed: seal(dataKey.key, secret, secretAad(id)), data_key_id: dataKey.id });
        note({ event_type: 'CREATE', target_type: 'webhook', target_id: id, target_name: originOf(url), change: `Created a webhook to ${originOf(url)}`, details: { after: { path: input.path ?? null, events: JSON.parse(events) } } });
        return created;
      });
      return { ...(await view(hook)), secret };
    },

    list: async (access: RequestAccess) => ({ items: await Promise.all((await createWebhooksRepo(db).list(access.scope.organization.id)).map(view)) }),

    get: async (access: RequestAccess, id: string) => view(await load(access, id)),

    async update(access: RequestAccess, id: string, input: UpdateWebhookInput) {
      const current = await load(access, id);
      const url = input.url === undefined ? undefined : checkUrl(input.url);
      const events = input.events === undefined ? undefined : checkEvents(input.events);
      const place = input.path === undefined ? {} : await placeOf(current.organization_id, input.path);
      const enabling = input.enabled === true ? { consecutive_failures: 0, disabled_reason: null } : input.enabled === false ? { disabled_reason: 'disabled by hand' } : {};
      const updated = await withAudit(db, access.audit, async (tx, note) => {
        const hook = await createWebhooksRepo(tx).update(current.id, { url, events, ...place, ...(input.enabled === undefined ? {} : { enabled: input.enabled }), ...enabling });
        const fields = Object.keys(input).join(', ');
        note({ event_type: 'UPDATE', target_type: 'webhook', target_id: hook.id, target_name: originOf(hook.url), change: `Updated the webhook to ${originOf(hook.url)} (${fields})`, details: { changed: Object.keys(input), enabled: hook.enabled } });
        return hook;
      });
      return view(updated);
    },

    async delete(access: RequestAccess, id: string) {
      const current = await load(access, id);
      await withAudit(db, access.audit, async (tx, note) => {
        await createWebhooksRepo(tx).delete(current.id);
        note({ event_type: 'DELETE', target_type: 'webhook', target_id: current.id, target_name: originOf(current.url), change: `Deleted the webhook to ${originOf(current.url)}` });
      });
    },

    async deliveries(access: RequestAccess, id: string, cursor: string | undefined, limit: number) {
      // The cursor first: a bad one is the caller's mistake whatever the webhook.
      const before = decodeCursor(cursor);
      if (before !== undefined && !isUuid(before)) throw invalid('query.cursor', 'is not a cursor this API returned');
      const hook = await load(access, id);
      const rows = await createWebhooksRepo(db).deliveries(hook.id, before, limit + 1);
      return toPage(rows, limit, (row) => row.id, deliveryView);
    },

    async redeliver(access: RequestAccess, id: string, deliveryId: string) {
      const hook = await load(access, id);
      const original = isUuid(deliveryId) ? await createWebhooksRepo(db).delivery(hook.id, deliveryId) : undefined;
      if (!original) throw notFound('Delivery');
      if (!hook.enabled) throw conflict('This webhook is disabled: re-enable it (PATCH {"enabled": true}) before redelivering', { field: 'enabled' });
      return deliveryView(await createWebhooksRepo(db).requeue(original));
    },
  };
}

export function deliveryView(row: WebhookDelivery) {
  return {
    id: row.id,
    event: row.event,
    status: row.status,
    attempts: row.attempts,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    latency_ms: row.latency_ms,
    next_attempt_at: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
    redelivery_of: row.redelivery_of,
    payload: row.payload,
    created_at: row.created_at.toISOString(),
    completed_at: row.completed_at?.toISOString() ?? null,
  };
}

export type WebhooksService = ReturnType<typeof createWebhooksService>;
