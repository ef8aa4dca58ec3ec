import type { Kysely } from 'kysely';
import { hashToken, randomToken } from '../../kernel/crypto/random-token.js';
import { isUniqueViolation } from '../../kernel/db/errors.js';
import type { Database, Organization } from '../../kernel/db/schema.js';
import { AppError, conflict, notFound } from '../../kernel/errors.js';
import type { Principal } from '../../kernel/principal.js';
import { normaliseEmail } from '../accounts/service.js';
import { createMembersRepo } from './repo.js';

export const INVITATION_PREFIX = 'cfi_';
const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

export function createMembersService(deps: { db: Kysely<Database> }) {
  const repo = createMembersRepo(deps.db);

  return {
    list: (org: Organization, afterEmail: string | undefined, limit: number) => repo.list(org.id, afterEmail, limit),

    hasPendingInvitation: (email: string) => repo.hasPendingInvitationFor(normaliseEmail(email)),

    /** An invitation carries a one-time token, returned only here; the database keeps its hash. */
    async invite(principal: Principal, org: Organization, input: { email: string; role: string }) {
      const email = normaliseEmail(input.email);
      if (await repo.isMemberByEmail(org.id, email)) {
        throw conflict(`${email} is already a member of ${org.slug}`, { field: 'email' });
      }
      const token = randomToken(INVITATION_PREFIX);
      const invitation = await repo.insertInvitation({
        organization_id: org.id,
        email,
        role: input.role,
        token_hash: hashToken(token),
        invited_by: principal.user.id,
        expires_at: new Date(Date.now() + INVITATION_TTL_MS),
      });
      return { invitation, token };
    },

    pending: (org: Organization) => repo.pendingInvitations(org.id),

    async revoke(org: Organization, invitationId: string) {
      if (!(await repo.deleteInvitation(org.id, invitationId))) throw notFound('Invitation');
    },

    /** Joins the signed-in user to the inviting organization, once, if the invitation is theirs. */
    accept(principal: Principal, token: string) {
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
          if (isUniqueViolation(error)) throw conflict(`You are already a member of ${invitation.organization_slug}`);
          throw error;
        }
        await txRepo.markAccepted(invitation.id, principal.user.id);
        return invitation;
      });
    },
  };
}

export type MembersService = ReturnType<typeof createMembersService>;
