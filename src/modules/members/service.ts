import { isUuid } from '../../kernel/ids.js';
import type { Kysely } from 'kysely';
import { hashToken, randomToken } from '../../kernel/crypto/random-token.js';
import { translateConstraint } from '../../kernel/db/errors.js';
import type { Database, Organization } from '../../kernel/db/schema.js';
import { AppError, conflict, invalid, notFound } from '../../kernel/errors.js';
import { isSystemRole } from '../authz/system-roles.js';
import { requireUser, type UserPrincipal } from '../../kernel/principal.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import type { AuditContext } from '../../kernel/http/audit-context.js';
import { recordAudit, withAudit } from '../audit/recorder.js';
import { normaliseEmail } from '../accounts/service.js';
import { MEMBER_CONSTRAINTS, createMembersRepo } from './repo.js';
import type { MembershipChanged } from '../authz/membership-cache.js';

export const INVITATION_PREFIX = 'cfi_';
const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * `membershipChanged` runs after a membership change commits and before it is answered:
 * every instance has then forgotten the old membership (see membership-cache.ts).
 */
export function createMembersService(deps: { db: Kysely<Database>; membershipChanged: MembershipChanged }) {
  const repo = createMembersRepo(deps.db);
  const announced = async <T>(organizationId: string, userIds: string[], result: T): Promise<T> => {
    for (const userId of userIds) await deps.membershipChanged(organizationId, userId);
    return result;
  };

  /** The member `userId` of the organization, locked for the change being made. */
  async function member(r: ReturnType<typeof createMembersRepo>, org: Organization, userId: string) {
    const membership = isUuid(userId) ? await r.membership(org.id, userId) : undefined;
    if (!membership) throw notFound('Member');
    return membership;
  }

  return {
    /**
     * Gives a member a system role (`role`) or a custom one (`role_id`). The OWNER's role
     * changes only by transfer (SPEC §2.4), and nobody becomes OWNER this way.
     */
    changeRole(access: RequestAccess, userId: string, input: { role?: string; role_id?: string }) {
      const org = access.scope.organization;
      if ((input.role === undefined) === (input.role_id === undefined)) {
        throw invalid('body', 'give exactly one of role (a system role) or role_id (a custom role)');
      }
      const systemRole = input.role ?? (input.role_id !== undefined && isSystemRole(input.role_id) ? input.role_id : undefined);
      if (systemRole === 'OWNER') {
        throw conflict('There is exactly one OWNER; use POST /orgs/{org}/transfer-ownership to hand ownership over');
      }
      return withAudit(deps.db, access.audit, async (tx, note) => {
        const r = createMembersRepo(tx);
        const target = await member(r, org, userId);
        if (target.role === 'OWNER') {
          throw conflict("The OWNER's role changes only by transferring ownership to another member first");
        }
        let assigned: { role: string; role_id: string | null; role_name: string | null };
        if (systemRole !== undefined) {
          assigned = { role: systemRole, role_id: null, role_name: null };
        } else {
          const custom = isUuid(input.role_id!) ? await r.customRole(org.id, input.role_id!) : undefined;
          if (!custom) throw invalid('body.role_id', 'no such role in this organization');
          assigned = { role: 'CUSTOM', role_id: custom.id, role_name: custom.name };
        }
        await r.setRole(org.id, userId, assigned.role, assigned.role_id);
        const email = await r.userEmail(userId);
        note({
          event_type: 'UPDATE',
          target_type: 'member',
          target_id: userId,
          target_name: email,
          change: `Changed the role of ${email} to ${assigned.role_name ? `custom role ${assigned.role_name}` : assigned.role}`,
          details: { before: { role: target.role, role_id: target.role_id }, after: { role: assigned.role, role_id: assigned.role_id } },
        });
        return assigned;
      }).then((assigned) => announced(org.id, [userId], assigned));
    },

    /** Removes a member (or lets one leave); the OWNER must transfer ownership first. */
    remove(access: RequestAccess, userId: string) {
      const org = access.scope.organization;
      return withAudit(deps.db, access.audit, async (tx, note) => {
        const r = createMembersRepo(tx);
        const target = await member(r, org, userId);
        if (target.role === 'OWNER') {
          throw conflict('The OWNER cannot leave or be removed; transfer ownership to another member first');
        }
        await r.removeMember(org.id, userId);
        const email = await r.userEmail(userId);
        note({ event_type: 'DELETE', target_type: 'member', target_id: userId, target_name: email, change: `Removed ${email} from ${org.slug}`, details: { before: { role: target.role, role_id: target.role_id } } });
      }).then(() => announced(org.id, [userId], undefined));
    },

    /** SPEC §2.4: the new member becomes OWNER and the old Owner ADMIN, in one transaction. */
    transferOwnership(access: RequestAccess, userId: string) {
      const principal = requireUser(access.principal);
      const org = access.scope.organization;
      return withAudit(deps.db, access.audit, async (tx, note) => {
        const r = createMembersRepo(tx);
        const current = await member(r, org, principal.user.id);
        if (current.role !== 'OWNER') throw new AppError('FORBIDDEN', 'Only the OWNER can transfer ownership');
        if (userId === principal.user.id) throw invalid('body.user_id', 'is already the OWNER');
        const target = isUuid(userId) ? await r.membership(org.id, userId) : undefined;
        if (!target) throw invalid('body.user_id', 'is not a member of this organization; invite them first');
        // Demote first: the database allows one OWNER per organization at any moment.
        await r.setRole(org.id, principal.user.id, 'ADMIN', null);
        await r.setRole(org.id, userId, 'OWNER', null);
        const email = await r.userEmail(userId);
        note({ event_type: 'UPDATE', target_type: 'member', target_id: userId, target_name: email, change: `Transferred ownership of ${org.slug} from ${principal.user.email} to ${email}`, details: { before: { owner: principal.user.id }, after: { owner: userId } } });
      }).then(() => announced(org.id, [principal.user.id, userId], undefined));
    },


    list: (org: Organization, afterEmail: string | undefined, limit: number) => repo.list(org.id, afterEmail, limit),

    hasPendingInvitation: (email: string) => repo.hasPendingInvitationFor(normaliseEmail(email)),

    /** An invitation carries a one-time token, returned only here; the database keeps its hash. */
    async invite(access: RequestAccess, input: { email: string; role: string }) {
      const { principal } = access;
      const org = access.scope.organization;
      const email = normaliseEmail(input.email);
      if (await repo.isMemberByEmail(org.id, email)) {
        throw conflict(`${email} is already a member of ${org.slug}`, { field: 'email' });
      }
      const token = randomToken(INVITATION_PREFIX);
      const invitation = await withAudit(deps.db, access.audit, async (tx, note) => {
        const created = await createMembersRepo(tx).insertInvitation({
          organization_id: org.id,
          email,
          role: input.role,
          token_hash: hashToken(token),
          invited_by: principal.kind === 'user' ? principal.user.id : null,
          expires_at: new Date(Date.now() + INVITATION_TTL_MS),
        });
        note({ event_type: 'CREATE', target_type: 'invitation', target_id: created.id, target_name: email, change: `Invited ${email} as ${input.role}`, details: { after: { email, role: input.role } } });
        return created;
      });
      return { invitation, token };
    },

    pending: (org: Organization) => repo.pendingInvitations(org.id),

    revoke(access: RequestAccess, invitationId: string) {
      return withAudit(deps.db, access.audit, async (tx, note) => {
        if (!(await createMembersRepo(tx).deleteInvitation(access.scope.organization.id, invitationId))) throw notFound('Invitation');
        note({ event_type: 'DELETE', target_type: 'invitation', target_id: invitationId, change: 'Withdrew an invitation' });
      });
    },

    /** Joins the signed-in user to the inviting organization, once, if the invitation is theirs. */
    accept(principal: UserPrincipal, token: string, context: Omit<AuditContext, 'organizationId'>) {
      return deps.db.transaction().execute(async (tx) => {
        const txRepo = createMembersRepo(tx);
        const invitation = token.startsWith(INVITATION_PREFIX)
          ? await txRepo.invitationByTokenForUpdate(hashToken(token))
          : undefined;
        if (!invitation || invitation.accepted_at !== null || invitation.expires_at.getTime() <= Date.now()) {
          throw new AppError('NOT_FOUND', 'Invitation not found, already used or expired; ask for a new one');
        }
        if (invitation.email !== principal.user.email) {
          throw new AppError('FORBIDDEN', `This invitation is for another email address than ${principal.user.email}`);
        }
        try {
          await txRepo.addMember({ organization_id: invitation.organization_id, user_id: principal.user.id, role: invitation.role });
        } catch (error) {
          throw translateConstraint(error, { [MEMBER_CONSTRAINTS.membership]: () => conflict(`You are already a member of ${invitation.organization_slug}`) });
        }
        await txRepo.markAccepted(invitation.id, principal.user.id);
        await recordAudit(tx, { ...context, organizationId: invitation.organization_id }, [
          { event_type: 'CREATE', target_type: 'member', target_id: principal.user.id, target_name: principal.user.email, change: `${principal.user.email} joined as ${invitation.role}`, details: { after: { role: invitation.role } } },
        ]);
        return invitation;
      }).then((invitation) => announced(invitation.organization_id, [principal.user.id], invitation));
    },
  };
}

export type MembersService = ReturnType<typeof createMembersService>;
