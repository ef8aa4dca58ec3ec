import { sql, type Kysely } from 'kysely';
import type { AuditEvent, Database } from '../../kernel/db/schema.js';

export interface AuditFilters {
  from?: string;
  to?: string;
  event_type?: string;
  target_type?: string;
  target?: string;
  actor?: string;
  tool?: string;
}

export function createAuditRepo(db: Kysely<Database>) {
  return {
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
  };
}

export type AuditRepo = ReturnType<typeof createAuditRepo>;
