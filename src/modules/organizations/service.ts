import type { Kysely } from 'kysely';
import { translateConstraint } from '../../kernel/db/errors.js';
import type { Database, Organization } from '../../kernel/db/schema.js';
import { conflict } from '../../kernel/errors.js';
import type { UserPrincipal as Principal } from '../../kernel/principal.js';
import { ORGANIZATION_CONSTRAINTS, createOrganizationsRepo, type OrganizationChanges } from './repo.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import type { AuditContext } from '../../kernel/http/audit-context.js';
import type { MembershipChanged } from '../authz/membership-cache.js';
import { changedFields, recordAudit, withAudit } from '../audit/recorder.js';

/**
 * `hierarchyChanged` runs after an edit or deletion commits and before the caller answers:
 * cached token placements hold the old rows, and every instance drops them first.
 */
export function createOrganizationsService(deps: { db: Kysely<Database>; hierarchyChanged: () => Promise<void>; membershipChanged: MembershipChanged }) {
  const repo = createOrganizationsRepo(deps.db);

  const fields = (o: Organization) => ({ slug: o.slug, name: o.name, retention_days: o.retention_days, enforce_sso: o.enforce_sso });
  const slugTaken = (slug: string) =>
    conflict(`An organization with slug "${slug}" already exists; choose another slug`, { field: 'slug' });

  return {
    /** Creates the organization with its creator as OWNER, both or neither. */
    async create(principal: Principal, input: { slug: string; name?: string }, context: Omit<AuditContext, 'organizationId'>) {
      try {
        const created = await deps.db.transaction().execute(async (tx) => {
          const txRepo = createOrganizationsRepo(tx);
          const org = await txRepo.insert({ slug: input.slug, name: input.name ?? input.slug });
          await txRepo.addMember({ organization_id: org.id, user_id: principal.user.id, role: 'OWNER' });
          await recordAudit(tx, { ...context, organizationId: org.id }, [
            { event_type: 'CREATE', target_type: 'organization', target_id: org.id, target_name: org.slug, change: `Created organization ${org.slug}`, details: { after: fields(org) } },
          ]);
          return org;
        });
        // The creator's list of organizations (GET /me) is cached.
        await deps.membershipChanged(created.id, principal.user.id);
        return created;
      } catch (error) {
        throw translateConstraint(error, { [ORGANIZATION_CONSTRAINTS.slug]: () => slugTaken(input.slug) });
      }
    },

    listForUser: (principal: Principal, afterSlug: string | undefined, limit: number) =>
      repo.listForUser(principal.user.id, afterSlug, limit),

    async update(access: RequestAccess, org: Organization, changes: OrganizationChanges) {
      try {
        return await withAudit(deps.db, access.audit, async (tx, note) => {
          // Enforcing SSO with no provider would leave only the OWNER able to act.
          if (changes.enforce_sso === true && !(await createOrganizationsRepo(tx).hasSsoProvider(org.id))) {
            throw conflict('Add an SSO provider (POST /orgs/{org}/sso/providers) before enforcing single sign-on', { field: 'enforce_sso' });
          }
          const updated = await createOrganizationsRepo(tx).update(org.id, changes);
          note({ event_type: 'UPDATE', target_type: 'organization', target_id: org.id, target_name: updated.slug, change: `Updated organization ${updated.slug}`, details: changedFields(fields(org), fields(updated)) });
          return updated;
        }).then(async (updated) => (await deps.hierarchyChanged(), updated));
      } catch (error) {
        throw translateConstraint(error, { [ORGANIZATION_CONSTRAINTS.slug]: () => slugTaken(changes.slug ?? org.slug) });
      }
    },

    /** Everything below the organization goes with it, in the one statement's cascade; its log stays. */
    delete: (access: RequestAccess, org: Organization) =>
      withAudit(deps.db, access.audit, async (tx, note) => {
        await createOrganizationsRepo(tx).delete(org.id);
        note({ event_type: 'DELETE', target_type: 'organization', target_id: org.id, target_name: org.slug, change: `Deleted organization ${org.slug}`, details: { before: fields(org) } });
      }).then(deps.hierarchyChanged),
  };
}

export type OrganizationsService = ReturnType<typeof createOrganizationsService>;
