import { sql, type Kysely } from 'kysely';
import type { AuditEvent, Database } from '../../kernel/db/schema.js';
import { GENESIS_HASH, chainHash, type ChainedEvent } from './chain.js';
import type { AuditContext } from './context.js';

/** One thing that happened, as a service describes it. */
export interface AuditEventInput {
  event_type: string;
  target_type: string;
  target_id?: string | null;
  target_name?: string | null;
  /** One line for a person: "Created project shop". Never a secret value. */
  change: string;
  details?: Record<string, unknown>;
}

/**
 * Appends events to an organization's chain inside the caller's transaction, so a change
 * and its event commit or roll back together. Locking the chain head row serializes
 * appenders per organization (on PGlite everything is serialized anyway).
 */
export function recordAudit(tx: Kysely<Database>, context: AuditContext, events: AuditEventInput[]): Promise<AuditEvent[]> {
  return appendToChain(tx, context.organizationId, events.map((event) => ({ context, event })));
}

/**
 * Appends events of one organization, each with its own context (who, tool, request), in
 * two statements whatever their number: group commit gives it a batch of many requests.
 */
export async function appendToChain(
  tx: Kysely<Database>,
  organizationId: string,
  items: { context: AuditContext; event: AuditEventInput }[],
): Promise<AuditEvent[]> {
  if (items.length === 0) return [];
  const head = await sql<{ last_seq: number; last_hash: Buffer }>`
    insert into audit_chains (organization_id, last_seq, last_hash, first_seq, first_prev_hash)
    values (${organizationId}, 0, ${GENESIS_HASH}, 1, ${GENESIS_HASH})
    on conflict (organization_id) do update set last_seq = audit_chains.last_seq
    returning last_seq, last_hash`.execute(tx);
  let { last_seq: seq, last_hash: previous } = head.rows[0]!;
  previous = Buffer.from(previous);

  const rows = items.map(({ context, event: input }) => {
    seq += 1;
    const event: ChainedEvent = {
      organization_id: organizationId,
      seq,
      occurred_at: new Date(),
      event_type: input.event_type,
      target_type: input.target_type,
      target_id: input.target_id ?? null,
      target_name: input.target_name ?? null,
      change: input.change,
      actor_type: context.actor.type,
      actor_id: context.actor.id,
      actor_name: context.actor.name,
      tool: context.tool,
      source_ip: context.ip,
      request_id: context.requestId,
      details: input.details ?? {},
    };
    const hash = chainHash(event, previous);
    const row = { ...event, details: JSON.stringify(event.details), prev_hash: previous, hash };
    previous = hash;
    return row;
  });

  // The chain head moves in the same statement as the insert (a data-modifying CTE): one
  // round trip fewer per batch, which is what read events wait on. Only ids come back:
  // echoing whole rows (read events list every key) would double what a batch costs.
  const returned = await tx
    .with('moved_head', (db) =>
      db.updateTable('audit_chains').set({ last_seq: seq, last_hash: previous }).where('organization_id', '=', organizationId),
    )
    .insertInto('audit_events')
    .values(rows)
    .returning(['id', 'seq'])
    .execute();
  const idOf = new Map(returned.map((row) => [row.seq, row.id]));
  const inserted = rows.map((row, index): AuditEvent => ({ ...row, details: items[index]!.event.details ?? {}, id: idOf.get(row.seq)! }));
  return inserted;
}

/**
 * Runs `work` in a transaction and appends the events it noted to the chain in that same
 * transaction: never a change without its event, never an event for a rolled-back change.
 */
export function withAudit<T>(
  db: Kysely<Database>,
  context: AuditContext,
  work: (tx: Kysely<Database>, note: (event: AuditEventInput) => void) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (tx) => {
    const events: AuditEventInput[] = [];
    const result = await work(tx, (event) => events.push(event));
    await recordAudit(tx, context, events);
    return result;
  });
}

/** The fields that differ between two versions of a resource, for `details`. */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>) {
  const keys = Object.keys(after).filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
  return {
    before: Object.fromEntries(keys.map((key) => [key, before[key] ?? null])),
    after: Object.fromEntries(keys.map((key) => [key, after[key] ?? null])),
  };
}
