import { sql, type Kysely } from 'kysely';
import { pageAfter } from '../../kernel/db/keyset.js';
import type { Database, ServiceKind } from '../../kernel/db/schema.js';

/** Constraints whose violation the service answers in its own words (see translateConstraints). */
export const SERVICE_CONSTRAINTS = { slug: 'services_environment_id_slug_key' } as const;

export interface ServiceChanges {
  slug?: string;
  name?: string;
  kind?: ServiceKind;
  outputs?: Record<string, string>;
}

/** How outputs are stored (see outputs.ts). */
export interface SealedOutputs {
  outputs: string;
  outputs_sealed: Buffer;
  outputs_key_id: string;
}

export function createServicesRepo(db: Kysely<Database>) {
  return {
    list: (environmentId: string, afterSlug: string | undefined, limit: number) =>
      pageAfter(db.selectFrom('services').selectAll().where('environment_id', '=', environmentId), 'slug', afterSlug, limit),
    insert: (service: { id: string; environment_id: string; slug: string; name: string; kind: ServiceKind } & SealedOutputs) =>
      db
        .insertInto('services')
        .values(service)
        .returningAll()
        .executeTakeFirstOrThrow(),
    update: (id: string, changes: Omit<ServiceChanges, 'outputs'> & Partial<SealedOutputs>) =>
      db
        .updateTable('services')
        .set({ ...changes, updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow(),
    delete: (id: string) => db.deleteFrom('services').where('id', '=', id).execute(),

    /** Services whose outputs were stored in clear, before outputs were sealed, with their place. */
    clearOutputs: () =>
      db
        .selectFrom('services as s')
        .innerJoin('environments as e', 'e.id', 's.environment_id')
        .innerJoin('projects as p', 'p.id', 'e.project_id')
        .select(['s.id', 's.outputs', 'p.id as project_id', 'p.organization_id'])
        .where('s.outputs_sealed', 'is', null)
        .where(sql<boolean>`s.outputs <> '{}'::jsonb`)
        .execute(),

    /** Stores sealed outputs unless another run sealed them first. */
    sealOutputs: (id: string, columns: SealedOutputs) =>
      db.updateTable('services').set(columns).where('id', '=', id).where('outputs_sealed', 'is', null).execute(),
  };
}
