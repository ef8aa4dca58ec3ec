import type { Insertable, Kysely } from 'kysely';
import type { Database, SsoLoginsTable, SsoProvidersTable } from '../../kernel/db/schema.js';

/** Constraints whose violation the service answers in its own words. */
export const SSO_CONSTRAINTS = { name: 'sso_providers_name_key' } as const;

export function createSsoRepo(db: Kysely<Database>) {
  return {
    insertProvider: (row: Insertable<SsoProvidersTable>) => db.insertInto('sso_providers').values(row).returningAll().executeTakeFirstOrThrow(),

    providersOf: (organizationId: string) =>
      db.selectFrom('sso_providers').selectAll().where('organization_id', '=', organizationId).orderBy('created_at').orderBy('id').execute(),

    provider: (organizationId: string, id: string) =>
      db.selectFrom('sso_providers').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst(),

    providerById: (id: string) => db.selectFrom('sso_providers').selectAll().where('id', '=', id).executeTakeFirst(),

    deleteProvider: (organizationId: string, id: string) =>
      db.deleteFrom('sso_providers').where('organization_id', '=', organizationId).where('id', '=', id).returningAll().executeTakeFirst(),

    organizationBySlug: (slug: string) => db.selectFrom('organizations').select(['id', 'slug']).where('slug', '=', slug).executeTakeFirst(),

    userByEmail: (email: string) => db.selectFrom('users').select(['id', 'email', 'name']).where('email', '=', email).executeTakeFirst(),

    isMember: async (organizationId: string, userId: string) =>
      (await db.selectFrom('memberships').select('user_id').where('organization_id', '=', organizationId).where('user_id', '=', userId).executeTakeFirst()) !== undefined,

    insertLogin: async (row: Insertable<SsoLoginsTable>) => {
      // Expired sign-ins are only clutter; each start sweeps them.
      await db.deleteFrom('sso_logins').where('expires_at', '<', new Date()).execute();
      await db.insertInto('sso_logins').values(row).execute();
    },

    /** Marks the sign-in used and returns it, once: a second callback with the same state gets nothing. */
    consumeLogin: (stateHash: Buffer) =>
      db
        .updateTable('sso_logins')
        .set({ used_at: new Date() })
        .where('state_hash', '=', stateHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', new Date())
        .returningAll()
        .executeTakeFirst(),
  };
}

export type SsoRepo = ReturnType<typeof createSsoRepo>;
