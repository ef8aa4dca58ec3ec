import type { Insertable, Kysely, Updateable } from 'kysely';
import type { Database, SsoDomainsTable, SsoLoginsTable, SsoProvidersTable, SsoRoleRulesTable } from '../../kernel/db/schema.js';

/** Constraints whose violation the service answers in its own words. */
export const SSO_CONSTRAINTS = {
  name: 'sso_providers_name_key',
  domain: 'sso_domains_organization_domain_key',
  verifiedDomain: 'sso_domains_verified_key',
} as const;

export function createSsoRepo(db: Kysely<Database>) {
  return {
    insertProvider: (row: Insertable<SsoProvidersTable>) => db.insertInto('sso_providers').values(row).returningAll().executeTakeFirstOrThrow(),

    providersOf: (organizationId: string) =>
      db.selectFrom('sso_providers').selectAll().where('organization_id', '=', organizationId).orderBy('created_at').orderBy('id').execute(),

    provider: (organizationId: string, id: string) =>
      db.selectFrom('sso_providers').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst(),

    updateProvider: (organizationId: string, id: string, changes: Updateable<SsoProvidersTable>) =>
      db.updateTable('sso_providers').set(changes).where('organization_id', '=', organizationId).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),

    /** Locked: an edit and a sign-in's read of the secret do not interleave. */
    providerForUpdate: (organizationId: string, id: string) =>
      db.selectFrom('sso_providers').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).forUpdate().executeTakeFirst(),

    providerById: (id: string) => db.selectFrom('sso_providers').selectAll().where('id', '=', id).executeTakeFirst(),

    deleteProvider: (organizationId: string, id: string) =>
      db.deleteFrom('sso_providers').where('organization_id', '=', organizationId).where('id', '=', id).returningAll().executeTakeFirst(),

    organizationBySlug: (slug: string) => db.selectFrom('organizations').select(['id', 'slug']).where('slug', '=', slug).executeTakeFirst(),

    enforcedOrganization: (id: string) => db.selectFrom('organizations').select(['id', 'slug', 'enforce_sso']).where('id', '=', id).executeTakeFirst(),

    insertDomain: (row: Insertable<SsoDomainsTable>) => db.insertInto('sso_domains').values(row).returningAll().executeTakeFirstOrThrow(),

    domainsOf: (organizationId: string) =>
      db.selectFrom('sso_domains').selectAll().where('organization_id', '=', organizationId).orderBy('domain').execute(),

    domain: (organizationId: string, id: string) =>
      db.selectFrom('sso_domains').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst(),

    markDomainVerified: (id: string) =>
      db.updateTable('sso_domains').set({ verified_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),

    deleteDomain: (organizationId: string, id: string) =>
      db.deleteFrom('sso_domains').where('organization_id', '=', organizationId).where('id', '=', id).returningAll().executeTakeFirst(),

    isVerifiedDomain: async (organizationId: string, domain: string) =>
      (await db
        .selectFrom('sso_domains')
        .select('id')
        .where('organization_id', '=', organizationId)
        .where('domain', '=', domain)
        .where('verified_at', 'is not', null)
        .executeTakeFirst()) !== undefined,

    roleClaim: (organizationId: string) => db.selectFrom('sso_role_claims').selectAll().where('organization_id', '=', organizationId).executeTakeFirst(),

    /** The rules with their custom roles' names (null for a system role). */
    roleRules: (organizationId: string) =>
      db
        .selectFrom('sso_role_rules')
        .leftJoin('custom_roles', 'custom_roles.id', 'sso_role_rules.role_id')
        .select(['sso_role_rules.value', 'sso_role_rules.role', 'sso_role_rules.role_id', 'custom_roles.name as role_name'])
        .where('sso_role_rules.organization_id', '=', organizationId)
        .orderBy('sso_role_rules.value')
        .execute(),

    /** Replaces the organization's claim and rules as a whole. */
    async replaceRoleMappings(organizationId: string, claim: string, rules: Omit<Insertable<SsoRoleRulesTable>, 'organization_id'>[]) {
      await db
        .insertInto('sso_role_claims')
        .values({ organization_id: organizationId, claim })
        .onConflict((oc) => oc.column('organization_id').doUpdateSet({ claim, updated_at: new Date() }))
        .execute();
      await db.deleteFrom('sso_role_rules').where('organization_id', '=', organizationId).execute();
      if (rules.length > 0) await db.insertInto('sso_role_rules').values(rules.map((rule) => ({ ...rule, organization_id: organizationId }))).execute();
    },

    deleteRoleMappings: (organizationId: string) => db.deleteFrom('sso_role_claims').where('organization_id', '=', organizationId).executeTakeFirst(),

    customRoleByName: (organizationId: string, name: string) =>
      db.selectFrom('custom_roles').select(['id', 'name']).where('organization_id', '=', organizationId).where('name', '=', name).forShare().executeTakeFirst(),

    membership: (organizationId: string, userId: string) =>
      db
        .selectFrom('memberships')
        .select(['role', 'role_id'])
        .where('organization_id', '=', organizationId)
        .where('user_id', '=', userId)
        .forUpdate()
        .executeTakeFirst(),

    /** False when a concurrent sign-in of the same person added the membership first. */
    addMember: async (row: { organization_id: string; user_id: string; role: string; role_id: string | null }) =>
      (await db.insertInto('memberships').values(row).onConflict((oc) => oc.doNothing()).returning('user_id').executeTakeFirst()) !== undefined,

    setRole: (organizationId: string, userId: string, role: string, roleId: string | null) =>
      db.updateTable('memberships').set({ role, role_id: roleId }).where('organization_id', '=', organizationId).where('user_id', '=', userId).execute(),

    removeMember: (organizationId: string, userId: string) =>
      db.deleteFrom('memberships').where('organization_id', '=', organizationId).where('user_id', '=', userId).execute(),

    /** Undefined when a concurrent sign-in (or sign-up) created the account first. */
    insertUser: (row: { email: string; name: string; password_hash: string }) =>
      db.insertInto('users').values(row).onConflict((oc) => oc.column('email').doNothing()).returning(['id', 'email', 'name']).executeTakeFirst(),

    userByEmail: (email: string) => db.selectFrom('users').select(['id', 'email', 'name']).where('email', '=', email).executeTakeFirst(),

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
