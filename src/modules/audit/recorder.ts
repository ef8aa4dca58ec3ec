import type { Kysely } from 'kysely';
import type { AuditEvent, Database } from '../../kernel/db/schema.js';
import { canonicalJson, canonicalRow, eventParts, hashCanonical, type ChainedEvent, type EventParts } from './chain.js';
import type { AuditContext } from '../../kernel/http/audit-context.js';
import { CANONICAL, createAuditRepo } from './repo.js';
import { eventId } from './event-id.js';

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

export type ChainItem = { context: AuditContext; event: AuditEventInput };

/** Where an organization's chain ends: the last sequence number and hash. */
export interface ChainHead {
  seq: number;
  hash: Buffer;
}

/**
 * A row to insert: `details` as JSON text, `id` made here (time-ordered, see eventId; not
 * hashed). CANONICAL (a symbol: the query builder, which inserts a row's string keys, never
 * sees it) is the canonical text the hash covers, when kept.
 */
export type ChainRow = Omit<ChainedEvent, 'details'> & { id: string; details: string; prev_hash: Buffer; hash: Buffer; [CANONICAL]?: string };

/**
 * What an input contributes to its rows, kept per input: its details as JSON and its parts of
 * the canonical text. A cached resolution records the same input object on every read, so it
 * is serialised once, not per event. Inputs are never changed once recorded, which is what
 * makes identity a safe key.
 */
const inputTexts = new WeakMap<AuditEventInput, { json: string; parts: EventParts }>();
function inputText(input: AuditEventInput) {
  let text = inputTexts.get(input);
  if (!text) {
    const details = input.details ?? {};
    const row = { ...input, target_id: input.target_id ?? null, target_name: input.target_name ?? null };
    text = { json: JSON.stringify(details), parts: eventParts(row, canonicalJson(details)) };
    inputTexts.set(input, text);
  }
  return text;
}

/**
 * The rows that extend the chain from `head`, hashed in order. Read events come by the
 * thousand a second: each row is one object literal (no spreads), and its canonical text,
 * which the hash covers, is kept on it (CANONICAL) for rowsAsJson to send. A field the
 * context leaves undefined is stored as null, so it is hashed as null too: the verifier
 * hashes what the database gives back.
 */
export function chainRows(organizationId: string, items: ChainItem[], head: ChainHead): ChainRow[] {
  let seq = head.seq;
  let previous = head.hash;
  return items.map(({ context, event: input }) => {
    seq += 1;
    const text = inputText(input);
    const now = Date.now();
    const row: ChainRow = {
      id: eventId(now),
      organization_id: organizationId,
      seq,
      occurred_at: new Date(now),
      event_type: input.event_type,
      target_type: input.target_type,
      target_id: input.target_id ?? null,
      target_name: input.target_name ?? null,
      change: input.change,
      actor_type: context.actor.type,
      actor_id: context.actor.id ?? null,
      actor_name: context.actor.name,
      tool: context.tool,
      source_ip: context.ip ?? null,
      request_id: context.requestId ?? null,
      details: text.json,
      prev_hash: previous,
      hash: previous,
      [CANONICAL]: '',
    };
    const canonical = canonicalRow(row, text.parts);
    row[CANONICAL] = canonical;
    row.hash = hashCanonical(canonical, previous);
    previous = row.hash;
    return row;
  });
}

// Nothing comes back from the insert: the ids are made here (chainRows).
export function recorded(rows: ChainRow[], items: ChainItem[]): AuditEvent[] {
  return rows.map((row, index): AuditEvent => ({ ...row, details: items[index]!.event.details ?? {} }));
}

/**
 * Appends events of one organization, each with its own context (who, tool, request), in
 * two statements whatever their number: group commit gives it a batch of many requests.
 * The head row's lock serializes appenders until the caller's transaction ends.
 */
export async function appendToChain(tx: Kysely<Database>, organizationId: string, items: ChainItem[]): Promise<AuditEvent[]> {
  if (items.length === 0) return [];
  const repo = createAuditRepo(tx);
  const rows = chainRows(organizationId, items, await repo.lockHead(organizationId));
  // One statement whatever the number of events: the rows travel as one parameter (repo.append).
  await repo.append(organizationId, rows);
  return recorded(rows, items);
}

/**
 * Appends in ONE statement (its own transaction) when the chain still ends at `head`, as
 * remembered from the last append: the events are inserted only if the head row moved from
 * exactly there, so a concurrent appender (another instance, a change's own event) makes it
 * insert nothing and answer null, and the caller falls back to `appendToChain`. One round
 * trip instead of four is what group-committed read events wait on.
 */
export async function appendIfHeadIs(db: Kysely<Database>, organizationId: string, items: ChainItem[], head: ChainHead): Promise<AuditEvent[] | null> {
  const rows = chainRows(organizationId, items, head);
  return (await appendRowsIfHeadIs(db, organizationId, rows, head)) ? recorded(rows, items) : null;
}

/** appendIfHeadIs with the rows already chained from `head` (the read batcher chains ahead of commits): were they appended? */
export async function appendRowsIfHeadIs(db: Kysely<Database>, organizationId: string, rows: ChainRow[], head: ChainHead): Promise<boolean> {
  return (await createAuditRepo(db).appendCountIfHeadIs(organizationId, rows, head)) === rows.length;
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
