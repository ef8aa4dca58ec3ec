import { sql, type Kysely } from 'kysely';
import { pageAfter } from '../../kernel/db/keyset.js';
import type { Database, Invitation } from '../../kernel/db/schema.js';

/** Constraints whose violation the service answers in its own words (see translateConstraints). */
export const MEMBER_CONSTRAINTS = { membership: 'memberships_pkey' } as const;

export function createMembersRepo(db: Kysely<Database>) {
  return {
    /** Members by email after `afterEmail`. */
    list: (organizationId: string, afterEmail: string | undefined, limit: number) => {
      const query = db
        .selectFrom('memberships')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .leftJoin('custom_roles', 'custom_roles.id', 'memberships.role_id')
        .select([
          'users.id as user_id',
          'users.email',
          'users.name',
          'memberships.role',
          'memberships.role_id',
          'custom_roles.name as role_name',
          'memberships.created_at',
        ])
        .where('memberships.organization_id', '=', organizationId);
      return pageAfter(query, 'users.email', afterEmail, limit);
    },

    isMemberByEmail: async (organizationId: string, email: string) =>
      (await db
        .selectFrom('memberships')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .select('users.id')
        .where('memberships.organization_id', '=', organizationId)
        .where('users.email', '=', email)
        .executeTakeFirst()) !== undefined,

    membership: (organizationId: string, userId: string) =>
      db
        .selectFrom('memberships')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('user_id', '=', userId)
        .forUpdate()
        .executeTakeFirst(),

    userEmail: async (userId: string) =>
      (await db.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirst())?.email ?? userId,

    /** Share-locked: a role being assigned cannot be deleted under the assignment. */
    customRole: (organizationId: string, roleId: string) =>
      db
        .selectFrom('custom_roles')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('id', '=', roleId)
        .forShare()
        .executeTakeFirst(),

    setRole: (organizationId: string, userId: string, role: string, roleId: string | null) =>
      db
        .updateTable('memberships')
        .set({ role, role_id: roleId })
        .where('organization_id', '=', organizationId)
        .where('user_id', '=', userId)
        .execute(),

    removeMember: (organizationId: string, userId: string) =>
      db.deleteFrom('memberships').where('organization_id', '=', organizationId).where('user_id', '=', userId).execute(),

    addMember: (membership: { organization_id: string; user_id: string; role: string }) =>
      db.insertInto('memberships').values(membership).execute(),

    insertInvitation: (invitation: Pick<Invitation, 'organization_id' | 'email' | 'role' | 'token_hash' | 'invited_by' | 'expires_at'>) =>
      db.insertInto('invitations').values(invitation).returningAll().executeTakeFirstOrThrow(),

    pendingInvitations: (organizationId: string) =>
      db
        .selectFrom('invitations')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('accepted_at', 'is', null)
        .where('expires_at', '>', sql<Date>`now()`)
        .orderBy('created_at', 'desc')
        .execute(),

    hasPendingInvitationFor: async (email: string) =>
      (await db
        .selectFrom('invitations')
        .select('id')
        .where('email', '=', email)
        .where('accepted_at', 'is', null)
        .where('expires_at', '>', sql<Date>`now()`)
        .executeTakeFirst()) !== undefined,

    /** The invitation with this token hash, locked for the accepting transaction. */
    invitationByTokenForUpdate: (tokenHash: Buffer) =>
      db
        .selectFrom('invitations')
        .innerJoin('organizations', 'organizations.id', 'invitations.organization_id')
        .selectAll('invitations')
        .select(['organizations.slug as organization_slug', 'organizations.name as organization_name'])
        .where('invitations.token_hash', '=', tokenHash)
        .forUpdate('invitations')
        .executeTakeFirst(),

    markAccepted: (id: string, userId: string) =>
      db.updateTable('invitations').set({ accepted_at: sql`now()`, accepted_by: userId }).where('id', '=', id).execute(),

    deleteInvitation: async (organizationId: string, id: string) =>
      (
        await db
          .deleteFrom('invitations')
          .where('organization_id', '=', organizationId)
          .where('id', '=', id)
          .where('accepted_at', 'is', null)
          .executeTakeFirst()
      ).numDeletedRows > 0n,
  };
}
