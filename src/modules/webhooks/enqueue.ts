import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuditEvent, Database } from '../../kernel/db/schema.js';

/** The events a webhook may ask for; a pattern is one of these, "deployment.*" or "*". */
export const WEBHOOK_EVENTS = ['variable.changed', 'deployment.triggered', 'deployment.finished'] as const;

export function matchesEvent(patterns: readonly string[], event: string): boolean {
  return patterns.some((pattern) => pattern === '*' || pattern === event || (pattern.endsWith('.*') && event.startsWith(pattern.slice(0, -1))));
}

/**
 * A webhook limited to a project (or an environment) hears what reaches that place: changes
 * inside it, and changes at organization or project scope above it, which its services inherit.
 */
function reaches(hook: { project_id: string | null; environment_id: string | null }, place: { projectId: string | null; environmentId: string | null }): boolean {
  if (hook.project_id !== null && place.projectId !== null && hook.project_id !== place.projectId) return false;
  if (hook.environment_id !== null && place.environmentId !== null && hook.environment_id !== place.environmentId) return false;
  return true;
}

export type EnabledHook = { id: string; project_id: string | null; environment_id: string | null; events: string };

export function enabledHooks(tx: Kysely<Database>, organizationId: string): Promise<EnabledHook[]> {
  return tx
    .selectFrom('webhooks')
    .select(['id', 'project_id', 'environment_id', 'events'])
    .where('organization_id', '=', organizationId)
    .where('enabled', '=', true)
    .execute();
}

/**
 * Queues one delivery per enabled webhook that wants this event at this place, inside the
 * caller's transaction: the outbox rows commit with the change they announce, or not at all.
 */
export async function enqueueDeliveries(
  tx: Kysely<Database>,
  input: { organizationId: string; projectId: string | null; environmentId: string | null; event: string; body: Record<string, unknown>; wholeOrganizationOnly?: boolean },
  // A batch reads the organization's webhooks once for all its changes.
  hooks?: EnabledHook[],
): Promise<number> {
  hooks ??= await enabledHooks(tx, input.organizationId);
  const wanted = hooks.filter(
    (hook) => (input.wholeOrganizationOnly ? hook.project_id === null : reaches(hook, input)) && matchesEvent(JSON.parse(hook.events) as string[], input.event),
  );
  if (wanted.length === 0) return 0;
  const payload = JSON.stringify(input.body);
  await tx
    .insertInto('webhook_deliveries')
    .values(wanted.map((hook) => ({ id: randomUUID(), webhook_id: hook.id, event: input.event, payload, status: 'pending' as const })))
    .execute();
  return wanted.length;
}

/**
 * A platform's TRIGGER_DEPLOYMENT event (POST …/audit-events) as `deployment.triggered`. Its
 * target is whatever the platform named, not a place Coffer resolved, so only webhooks of the
 * whole organization hear it.
 */
export function enqueueDeployment(tx: Kysely<Database>, organization: { id: string; slug: string }, event: AuditEvent): Promise<number> {
  return enqueueDeliveries(tx, {
    organizationId: organization.id,
    projectId: null,
    environmentId: null,
    wholeOrganizationOnly: true,
    event: 'deployment.triggered',
    body: {
      event: 'deployment.triggered',
      event_id: `audit-${event.seq}`,
      occurred_at: event.occurred_at.toISOString(),
      organization: organization.slug,
      deployment: { target_type: event.target_type, target_id: event.target_id, target_name: event.target_name, change: event.change, actor: event.actor_name, audit_event_id: event.id },
    },
  });
}
