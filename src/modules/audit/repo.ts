import { sql, type Kysely } from 'kysely';
import type { AuditEvent, Database } from '../../kernel/db/schema.js';
import { prepareOnce } from '../../kernel/db/prepared.js';
import { GENESIS_HASH } from './chain.js';
import type { ChainHead, ChainRow } from './recorder.js';

export interface AuditFilters {
  from?: string;
  to?: string;
  event_type?: string;
  target_type?: string;
  target?: string;
  actor?: string;
  tool?: string;
}

const COLUMN_TYPES: [Exclude<keyof ChainRow, symbol>, string][] = [
  ['id', 'uuid'], ['organization_id', 'uuid'], ['seq', 'bigint'], ['occurred_at', 'timestamptz'], ['event_type', 'text'],
  ['target_type', 'text'], ['target_id', 'text'], ['target_name', 'text'], ['change', 'text'],
  ['actor_type', 'text'], ['actor_id', 'text'], ['actor_name', 'text'], ['tool', 'text'],
  ['source_ip', 'text'], ['request_id', 'text'], ['details', 'jsonb'], ['prev_hash', 'bytea'], ['hash', 'bytea'],
];

// How jsonb_to_recordset reads each column of rowsAsJson: hashes as hex text, decoded in the select.
const RECORD_COLUMNS = COLUMN_TYPES.map(([column, type]) => `${column} ${type === 'bytea' ? 'text' : type}`).join(', ');
const RECORD_INSERT = COLUMN_TYPES.map(([column]) => column).join(', ');
const RECORD_SELECT = COLUMN_TYPES.map(([column, type]) => (type === 'bytea' ? `decode(r.${column}, 'hex')` : `r.${column}`)).join(', ');

/**
 * Where chainRows keeps a row's canonical text (what its hash covers: every column but the
 * hashes, as JSON), so that rowsAsJson need not serialise the row a second time.
 */
export const CANONICAL: unique symbol = Symbol('canonical text');

/**
 * The rows as one JSON array. A row's canonical text already holds every column but the
 * hashes as a JSON object (details in canonical key order: the same jsonb), so the hashes are
 * appended to it; a row without one is serialised here, `details` (already JSON text) spliced in.
 */
export function rowsAsJson(rows: ChainRow[]): string {
  const parts = rows.map((row) => {
    const hashes = `"id":"${row.id}","prev_hash":"${row.prev_hash.toString('hex')}","hash":"${row.hash.toString('hex')}"}`;
    const canonical = row[CANONICAL];
    if (canonical !== undefined) return `${canonical.slice(0, -1)},${hashes}`;
    const fields: Record<string, unknown> = {};
    for (const [column, type] of COLUMN_TYPES) {
      if (column === 'details' || column === 'id' || type === 'bytea') continue;
      const value = row[column];
      fields[column] = value instanceof Date ? value.toISOString() : value;
    }
    return `${JSON.stringify(fields).slice(0, -1)},"details":${row.details},${hashes}`;
  });
  return `[${parts.join(',')}]`;
}

/** The insert of appendIfHeadIs, without a returning clause: rows only if the head row moved from exactly `head`. */
function insertIfHeadIs(organizationId: string, rows: ChainRow[], head: ChainHead) {
  const last = rows.at(-1)!;
  return sql`
    with moved as (
      update audit_chains set last_seq = ${last.seq}, last_hash = ${last.hash}
      where organization_id = ${organizationId} and last_seq = ${head.seq} and last_hash = ${head.hash}
      returning 1
    )
    insert into audit_events (${sql.raw(RECORD_INSERT)})
    select ${sql.raw(RECORD_SELECT)} from jsonb_to_recordset(${rowsAsJson(rows)}::jsonb) as r(${sql.raw(RECORD_COLUMNS)})
    where exists (select 1 from moved)`;
}

export function createAuditRepo(db: Kysely<Database>) {
  return {
    /** Creates the organization's chain head row if missing and locks it; returns where the chain ends. */
    async lockHead(organizationId: string): Promise<ChainHead> {
      const head = await sql<{ last_seq: number; last_hash: Buffer }>`
        insert into audit_chains (organization_id, last_seq, last_hash, first_seq, first_prev_hash)
        values (${organizationId}, 0, ${GENESIS_HASH}, 1, ${GENESIS_HASH})
        on conflict (organization_id) do update set last_seq = audit_chains.last_seq
        returning last_seq, last_hash`.execute(db);
      return { seq: Number(head.rows[0]!.last_seq), hash: Buffer.from(head.rows[0]!.last_hash) };
    },

    /**
     * Inserts chained rows under the locked head; the head moves in the same statement (a
     * data-modifying CTE). The rows travel as one jsonb parameter, as in appendCountIfHeadIs.
     */
    async append(organizationId: string, rows: ChainRow[]): Promise<void> {
      const last = rows.at(-1)!;
      await sql`
        with moved_head as (
          update audit_chains set last_seq = ${last.seq}, last_hash = ${last.hash} where organization_id = ${organizationId}
        )
        insert into audit_events (${sql.raw(RECORD_INSERT)})
        select ${sql.raw(RECORD_SELECT)} from jsonb_to_recordset(${rowsAsJson(rows)}::jsonb) as r(${sql.raw(RECORD_COLUMNS)})`.execute(db);
    },

    /**
     * Inserts chained rows only if the head row moves from exactly `head` (see appendIfHeadIs
     * in recorder.ts), else none; answers how many it inserted (all or none). The rows travel
     * as ONE jsonb parameter whatever their number: a constant statement with four parameters,
     * instead of seventeen per row that the query builder and the driver would each walk on
     * every batch. Nothing is echoed back: the ids are made before the insert (chainRows).
     */
    async appendCountIfHeadIs(organizationId: string, rows: ChainRow[], head: ChainHead): Promise<number> {
      const query = insertIfHeadIs(organizationId, rows, head).compile(db);
      // Its text never changes (the rows are a parameter): planned once per connection.
      prepareOnce(query.sql);
      const result = await db.executeQuery(query);
      return Number(result.numAffectedRows ?? 0);
    },

    /** Newest first, keyset on seq: `beforeSeq` is the last seq of the previous page. */
    page(organizationId: string, filters: AuditFilters, beforeSeq: number | undefined, limit: number): Promise<AuditEvent[]> {
      let query = db.selectFrom('audit_events').selectAll().where('organization_id', '=', organizationId);
      if (filters.from) query = query.where('occurred_at', '>=', new Date(filters.from));
      if (filters.to) query = query.where('occurred_at', '<', new Date(filters.to));
      if (filters.event_type) query = query.where('event_type', '=', filters.event_type);
      if (filters.target_type) query = query.where('target_type', '=', filters.target_type);
      if (filters.target) {
        const target = filters.target;
        query = query.where((eb) => eb.or([eb('target_id', '=', target), eb('target_name', '=', target)]));
      }
      if (filters.actor) {
        const actor = filters.actor;
        query = query.where((eb) => eb.or([eb('actor_id', '=', actor), eb('actor_name', '=', actor)]));
      }
      if (filters.tool) query = query.where('tool', '=', filters.tool);
      if (beforeSeq !== undefined) query = query.where('seq', '<', beforeSeq);
      return query.orderBy('seq', 'desc').limit(limit).execute();
    },

    byId: (organizationId: string, id: string) =>
      db.selectFrom('audit_events').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst(),

    /** Oldest first from `fromSeq` (up to `toSeq` when given), for verification in bounded memory. */
    ascending: (organizationId: string, fromSeq: number, limit: number, toSeq?: number) => {
      let query = db.selectFrom('audit_events').selectAll().where('organization_id', '=', organizationId).where('seq', '>=', fromSeq);
      if (toSeq !== undefined) query = query.where('seq', '<=', toSeq);
      return query.orderBy('seq', 'asc').limit(limit).execute();
    },

    chain: (organizationId: string) =>
      db.selectFrom('audit_chains').selectAll().where('organization_id', '=', organizationId).executeTakeFirst(),

    keySets: (organizationId: string) =>
      db.selectFrom('audit_key_sets').select(['digest', 'keys']).where('organization_id', '=', organizationId).execute(),

    firstWithKeySet: (organizationId: string, digest: string) =>
      db
        .selectFrom('audit_events')
        .select('id')
        .where('organization_id', '=', organizationId)
        .where(sql<string>`details->>'key_set'`, '=', digest)
        .orderBy('seq')
        .limit(1)
        .executeTakeFirst(),

    /** The chain's row, locked for the transaction: appends and purges take this lock. */
    chainForUpdate: (organizationId: string) =>
      db.selectFrom('audit_chains').selectAll().where('organization_id', '=', organizationId).forUpdate().executeTakeFirst(),

    /** The newest event that occurred before `cutoff`: the last one retention removes. */
    lastBefore: (organizationId: string, cutoff: Date) =>
      db
        .selectFrom('audit_events')
        .select(['seq', 'hash'])
        .where('organization_id', '=', organizationId)
        .where('occurred_at', '<', cutoff)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst(),

    /** Removes the events up to `seq` and starts the recorded chain after it; returns how many went. */
    async purgeThrough(organizationId: string, last: { seq: number; hash: Buffer }): Promise<number> {
      const deleted = await db.deleteFrom('audit_events').where('organization_id', '=', organizationId).where('seq', '<=', last.seq).executeTakeFirst();
      await db
        .updateTable('audit_chains')
        .set({ first_seq: last.seq + 1, first_prev_hash: last.hash })
        .where('organization_id', '=', organizationId)
        .execute();
      return Number(deleted.numDeletedRows);
    },

    /** Every organization's retention, for the hourly purge. */
    retentions: () => db.selectFrom('organizations').select(['id', 'retention_days']).execute(),

    /** Stores a key list unless the organization has it already (see key-sets.ts). */
    insertKeySet: (organizationId: string, digest: string, keys: readonly string[]) =>
      db
        .insertInto('audit_key_sets')
        .values({ organization_id: organizationId, digest, keys: JSON.stringify(keys) })
        .onConflict((oc) => oc.columns(['organization_id', 'digest']).doNothing())
        .execute(),

    keySetsByDigest: (organizationId: string, digests: string[]) =>
      db
        .selectFrom('audit_key_sets')
        .select(['digest', 'keys'])
        .where('organization_id', '=', organizationId)
        .where('digest', 'in', digests)
        .execute(),

    /** The audit log's own keys (see audit-keys.ts): those migration 0009 left to be stored. */
    pendingKeys: () => db.selectFrom('audit_keys').select('name').where('wrapped', 'is', null).orderBy('name').execute(),

    /** Stores a pending key unless another instance stored it first. */
    storePendingKey: (name: string, wrapped: Buffer, provider: string) =>
      db.updateTable('audit_keys').set({ wrapped, provider }).where('name', '=', name).where('wrapped', 'is', null).execute(),

    hasKey: async (name: string) => (await db.selectFrom('audit_keys').select('name').where('name', '=', name).executeTakeFirst()) !== undefined,

    /** Creates a key unless a concurrent start's landed first. */
    insertKey: (name: string, wrapped: Buffer, provider: string) =>
      db
        .insertInto('audit_keys')
        .values({ name, provider, wrapped })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute(),

    keys: () => db.selectFrom('audit_keys').select(['name', 'wrapped']).execute(),

    /** The stored keys, locked for a root-key rotation. */
    storedKeysForUpdate: () =>
      db.selectFrom('audit_keys').select(['name', 'wrapped']).where('wrapped', 'is not', null).orderBy('name').forUpdate().execute(),

    rewrapKey: (name: string, wrapped: Buffer, provider: string) =>
      db.updateTable('audit_keys').set({ wrapped, provider, rotated_at: new Date() }).where('name', '=', name).execute(),
  };
}

export type AuditRepo = ReturnType<typeof createAuditRepo>;
