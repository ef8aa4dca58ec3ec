import type { Kysely } from 'kysely';
import { pageAfter } from '../../kernel/db/keyset.js';
import type { Database } from '../../kernel/db/schema.js';

/** Constraints whose violation the service answers in its own words (see translateConstraints). */
export const ORGANIZATION_CONSTRAINTS = { slug: 'organizations_slug_key' } as const;

export interface OrganizationChanges {
  slug?: string;
  name?: string;
  retention_days?: number;
  enforce_sso?: boolean;
}

export function createOrganizationsRepo(db: Kysely<Database>) {
  return {
    insert: (org: { slug: string; name: string }) =>
      db.insertInto('organizations').values(org).returningAll().executeTakeFirstOrThrow(),

    addMember: (membership: { organization_id: string; user_id: string; role: string }) =>
      db.insertInto('memberships').values(membership).execute(),

    /** The organizations `userId` belongs to, by slug, after `afterSlug`. */
    listForUser: (userId: string, afterSlug: string | undefined, limit: number) => {
      const query = db
        .selectFrom('organizations')
        .innerJoin('memberships', 'memberships.organization_id', 'organizations.id')
        .selectAll('organizations')
        .select('memberships.role')
        .where('memberships.user_id', '=', userId);
      return pageAfter(query, 'organizations.slug', afterSlug, limit);
    },

    update: (id: string, changes: OrganizationChanges) =>
      db
        .updateTable('organizations')
        .set({ ...changes, updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow(),

    delete: (id: string) => db.deleteFrom('organizations').where('id', '=', id).execute(),

    hasSsoProvider: async (id: string) =>
      (await db.selectFrom('sso_providers').select('id').where('organization_id', '=', id).limit(1).executeTakeFirst()) !== undefined,
  };
}

export type OrganizationsRepo = ReturnType<typeof createOrganizationsRepo>;
