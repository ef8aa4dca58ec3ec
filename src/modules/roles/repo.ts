import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';

/** Constraints whose violation the service answers in its own words (see translateConstraints). */
export const ROLE_CONSTRAINTS = { name: 'custom_roles_name' } as const;

export interface RoleLists {
  clusters: { cluster_id: string; permission: string }[];
  projects: { project_id: string; is_admin: boolean; levels: Record<string, string> }[];
  environments: { environment_id: string; permissions: string[] }[];
}

/** Which of `ids` exist, as `find` (a query of those ids in one organization) answers; no query for none. */
async function existing(ids: string[], find: () => Promise<{ id: string }[]>): Promise<Set<string>> {
  return ids.length === 0 ? new Set<string>() : new Set((await find()).map((row) => row.id));
}

export function createRolesRepo(db: Kysely<Database>) {
  return {
    list: (organizationId: string) =>
      db.selectFrom('custom_roles').selectAll().where('organization_id', '=', organizationId).orderBy('name').execute(),

    byId: (organizationId: string, id: string) =>
      db.selectFrom('custom_roles').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst(),

    /** A role by id alone, for the grants compiler (which already knows the organization). */
    definitionRow: (id: string) => db.selectFrom('custom_roles').selectAll().where('id', '=', id).executeTakeFirst(),

    /** The three lists of a role, in the order they were given, with the names filled in. */
    async lists(roleId: string) {
      const [clusters, projects, environments] = await Promise.all([
        db
          .selectFrom('custom_role_clusters as r')
          .innerJoin('clusters as c', 'c.id', 'r.cluster_id')
          .select(['r.cluster_id', 'c.name as cluster_name', 'r.permission'])
          .where('r.role_id', '=', roleId)
          .orderBy('r.position')
          .execute(),
        db
          .selectFrom('custom_role_projects as r')
          .innerJoin('projects as p', 'p.id', 'r.project_id')
          .select(['r.project_id', 'p.name as project_name', 'r.is_admin', 'r.levels'])
          .where('r.role_id', '=', roleId)
          .orderBy('r.position')
          .execute(),
        db
          .selectFrom('custom_role_environments as r')
          .innerJoin('environments as e', 'e.id', 'r.environment_id')
          .innerJoin('projects as p', 'p.id', 'e.project_id')
          .select(['r.environment_id', 'e.name as environment_name', 'e.project_id', 'p.name as project_name', 'r.permissions'])
          .where('r.role_id', '=', roleId)
          .orderBy('r.position')
          .execute(),
      ]);
      return { clusters, projects, environments };
    },

    insert: (role: { organization_id: string; name: string; description: string }) =>
      db.insertInto('custom_roles').values(role).returningAll().executeTakeFirstOrThrow(),

    /** Renames and bumps the version, which invalidates every instance's cached grants. */
    touch: (id: string, changes: { name: string; description: string }) =>
      db
        .updateTable('custom_roles')
        .set((eb) => ({ ...changes, version: eb('version', '+', 1), updated_at: new Date() }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow(),

    async replaceLists(roleId: string, lists: RoleLists) {
      await db.deleteFrom('custom_role_clusters').where('role_id', '=', roleId).execute();
      await db.deleteFrom('custom_role_projects').where('role_id', '=', roleId).execute();
      await db.deleteFrom('custom_role_environments').where('role_id', '=', roleId).execute();
      if (lists.clusters.length > 0) {
        await db
          .insertInto('custom_role_clusters')
          .values(lists.clusters.map((c, position) => ({ role_id: roleId, ...c, position })))
          .execute();
      }
      if (lists.projects.length > 0) {
        await db
          .insertInto('custom_role_projects')
          .values(lists.projects.map((p, position) => ({ role_id: roleId, ...p, levels: JSON.stringify(p.levels), position })))
          .execute();
      }
      if (lists.environments.length > 0) {
        await db
          .insertInto('custom_role_environments')
          .values(
            lists.environments.map((e, position) => ({
              role_id: roleId,
              environment_id: e.environment_id,
              permissions: JSON.stringify(e.permissions),
              position,
            })),
          )
          .execute();
      }
    },

    delete: (id: string) => db.deleteFrom('custom_roles').where('id', '=', id).execute(),

    /** Locks the role against concurrent assignment while its members are counted. */
    lock: (id: string) => db.selectFrom('custom_roles').select('id').where('id', '=', id).forUpdate().executeTakeFirst(),

    memberCount: async (roleId: string) =>
      (
        await db
          .selectFrom('memberships')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('role_id', '=', roleId)
          .executeTakeFirstOrThrow()
      ).n,

    existingClusters: (organizationId: string, ids: string[]) =>
      existing(ids, () => db.selectFrom('clusters').select('id').where('organization_id', '=', organizationId).where('id', 'in', ids).execute()),

    existingProjects: (organizationId: string, ids: string[]) =>
      existing(ids, () => db.selectFrom('projects').select('id').where('organization_id', '=', organizationId).where('id', 'in', ids).execute()),

    existingEnvironments: (organizationId: string, ids: string[]) =>
      existing(ids, () =>
        db
          .selectFrom('environments as e')
          .innerJoin('projects as p', 'p.id', 'e.project_id')
          .select('e.id')
          .where('p.organization_id', '=', organizationId)
          .where('e.id', 'in', ids)
          .execute(),
      ),
  };
}

export type RolesRepo = ReturnType<typeof createRolesRepo>;
