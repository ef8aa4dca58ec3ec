import { sql, type Kysely } from 'kysely';
import { columnNames, recordset, type RecordColumn } from '../../kernel/db/recordset.js';
import type { Change, Database } from '../../kernel/db/schema.js';
import { enabledHooks, enqueueDeliveries, type EnabledHook } from '../webhooks/enqueue.js';

/** Where a change happened, by slug: "shop", "shop/production" or "shop/production/backend"; null at organization scope. */
export function changePath(row: { project_slug: string | null; environment_slug: string | null; service_slug: string | null }): string | null {
  return [row.project_slug, row.environment_slug, row.service_slug].filter((part) => part !== null).join('/') || null;
}

/**
 * Writes the change record of a variable's new version inside the caller's transaction (the
 * outbox pattern): the change, its stream event and its webhook deliveries commit or roll back
 * with the change itself. A per-organization lock, held until commit, makes ids become visible
 * in order, so a stream resuming "after id N" never skips a change committed late.
 */
export async function recordVariableChange(tx: Kysely<Database>, change: VersionChange): Promise<void> {
  await recordVariableChanges(tx, [change]);
}

type VersionChange = { variable_id: string; version: number; operation: string; actor_name: string };

const CHANGE_COLUMNS: RecordColumn[] = [
  ['organization_id', 'uuid'], ['project_id', 'uuid'], ['environment_id', 'uuid'], ['service_id', 'uuid'], ['scope', 'text'],
  ['assignee_user_id', 'uuid'], ['variable_id', 'uuid'], ['key', 'text'], ['type', 'text'], ['version', 'integer'],
  ['operation', 'text'], ['actor_name', 'text'],
];

/**
 * The change records of many new versions (a batch) in a few statements: the same rows, lock
 * and deliveries as one by one, without a round trip per variable.
 */
export async function recordVariableChanges(tx: Kysely<Database>, changes: readonly VersionChange[]): Promise<void> {
  if (changes.length === 0) return;
  const places = new Map<string, Awaited<ReturnType<typeof placesOf>>[number]>();
  for (const place of await placesOf(tx, changes.map((change) => change.variable_id))) places.set(place.id, place);
  const organizations = new Set([...places.values()].map((place) => place.organization_id));
  for (const organizationId of organizations) {
    await sql`select pg_advisory_xact_lock(hashtextextended(${`coffer.changes:${organizationId}`}, 0))`.execute(tx);
  }
  const values = changes.map((change) => {
    const variable = places.get(change.variable_id)!;
    return {
      organization_id: variable.organization_id,
      project_id: variable.project_id,
      environment_id: variable.environment_id,
      service_id: variable.service_id,
      scope: variable.scope,
      assignee_user_id: variable.assignee_user_id,
      variable_id: change.variable_id,
      key: variable.name,
      type: variable.type,
      version: change.version,
      operation: change.operation,
      actor_name: change.actor_name,
    };
  });
  const hooks = new Map<string, EnabledHook[]>();
  for (const organizationId of organizations) hooks.set(organizationId, await enabledHooks(tx, organizationId));
  // One statement and one parameter, whatever the number of changes; the rows come back only
  // for webhook deliveries (an import of 10,000 into an organization without webhooks needs none).
  const insert = tx.insertInto('changes').columns(columnNames(CHANGE_COLUMNS)).expression(recordset(CHANGE_COLUMNS, values));
  if ([...hooks.values()].every((enabled) => enabled.length === 0)) return void (await insert.execute());
  const recorded = await insert.returningAll().execute();
  for (const row of recorded) {
    const variable = places.get(row.variable_id)!;
    if (hooks.get(row.organization_id)!.length === 0) continue;
    await enqueueDeliveries(tx, {
      organizationId: row.organization_id,
      projectId: row.project_id,
      environmentId: row.environment_id,
      event: 'variable.changed',
      body: {
        event: 'variable.changed',
        event_id: `change-${row.id}`,
        occurred_at: row.created_at.toISOString(),
        organization: variable.org_slug,
        path: changePath(variable),
        change: changeView(row),
      },
    }, hooks.get(row.organization_id));
  }
}

function placesOf(tx: Kysely<Database>, variableIds: string[]) {
  return tx
    .selectFrom('variables as v')
    .innerJoin('organizations as o', 'o.id', 'v.organization_id')
    .leftJoin('projects as p', 'p.id', 'v.project_id')
    .leftJoin('environments as e', 'e.id', 'v.environment_id')
    .leftJoin('services as s', 's.id', 'v.service_id')
    .select(['v.id', 'v.organization_id', 'v.project_id', 'v.environment_id', 'v.service_id', 'v.scope', 'v.assignee_user_id', 'v.name', 'v.type', 'o.slug as org_slug'])
    .select(['p.slug as project_slug', 'e.slug as environment_slug', 's.slug as service_slug'])
    // One array parameter, whatever the number of ids (a batch has up to 10,000).
    .where(sql<boolean>`v.id = any(${variableIds}::uuid[])`)
    .execute();
}

/** What a webhook body and a stream event say about a change: keys and versions, never a value. */
export function changeView(row: Change) {
  return {
    id: Number(row.id),
    variable_id: row.variable_id,
    key: row.type === 'pg_service' ? null : row.key,
    pg_service: row.type === 'pg_service' ? row.key : undefined,
    type: row.type,
    scope: row.scope,
    assignee_user_id: row.assignee_user_id,
    version: row.version,
    operation: row.operation,
    actor: row.actor_name,
    created_at: row.created_at.toISOString(),
  };
}
