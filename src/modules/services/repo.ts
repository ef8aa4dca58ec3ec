import type { Kysely } from 'kysely';
import type { Database, ServiceKind } from '../../kernel/db/schema.js';

export interface ServiceChanges {
  slug?: string;
  name?: string;
  kind?: ServiceKind;
  outputs?: Record<string, string>;
}

export function createServicesRepo(db: Kysely<Database>) {
  return {
    list: (environmentId: string, afterSlug: string | undefined, limit: number) => {
      let query = db.selectFrom('services').selectAll().where('environment_id', '=', environmentId);
      if (afterSlug !== undefined) query = query.where('slug', '>', afterSlug);
      return query.orderBy('slug').limit(limit).execute();
    },
    insert: (service: { environment_id: string; slug: string; name: string; kind: ServiceKind; outputs: Record<string, string> }) =>
      db
        .insertInto('services')
        .values({ ...service, outputs: JSON.stringify(service.outputs) })
        .returningAll()
        .executeTakeFirstOrThrow(),
    update: (id: string, { outputs, ...changes }: ServiceChanges) =>
      db
        .updateTable('services')
        .set({ ...changes, ...(outputs ? { outputs: JSON.stringify(outputs) } : {}), updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow(),
    delete: (id: string) => db.deleteFrom('services').where('id', '=', id).execute(),
  };
}
