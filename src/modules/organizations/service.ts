import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../../kernel/db/errors.js';
import type { Database, Organization } from '../../kernel/db/schema.js';
import { conflict } from '../../kernel/errors.js';
import type { UserPrincipal as Principal } from '../../kernel/principal.js';
import { createOrganizationsRepo } from './repo.js';

export function createOrganizationsService(deps: { db: Kysely<Database> }) {
  const repo = createOrganizationsRepo(deps.db);

  const slugTaken = (slug: string) =>
    conflict(`An organization with slug "${slug}" already exists; choose another slug`, { field: 'slug' });

  return {
    /** Creates the organization with its creator as OWNER, both or neither. */
    async create(principal: Principal, input: { slug: string; name?: string }) {
      try {
        return await deps.db.transaction().execute(async (tx) => {
          const txRepo = createOrganizationsRepo(tx);
          const org = await txRepo.insert({ slug: input.slug, name: input.name ?? input.slug });
          await txRepo.addMember({ organization_id: org.id, user_id: principal.user.id, role: 'OWNER' });
          return org;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw slugTaken(input.slug);
        throw error;
      }
    },

    listForUser: (principal: Principal, afterSlug: string | undefined, limit: number) =>
      repo.listForUser(principal.user.id, afterSlug, limit),

    async update(org: Organization, changes: { slug?: string; name?: string }) {
      try {
        return await repo.update(org.id, changes);
      } catch (error) {
        if (isUniqueViolation(error)) throw slugTaken(changes.slug ?? org.slug);
        throw error;
      }
    },

    /** Everything below the organization goes with it, in the one statement's cascade. */
    delete: (org: Organization) => repo.delete(org.id),
  };
}

export type OrganizationsService = ReturnType<typeof createOrganizationsService>;
