import { isUuid } from '../../kernel/ids.js';
import type { Kysely } from 'kysely';
import { translateConstraint } from '../../kernel/db/errors.js';
import { ENVIRONMENT_TYPES, type CustomRole, type Database, type Organization } from '../../kernel/db/schema.js';
import { AppError, conflict, invalid, notFound } from '../../kernel/errors.js';
import type { CustomRoleDefinition } from '../authz/grants.js';
import type { ClusterLevel, EnvironmentSet, ProjectLevel, TypeLevels } from '../authz/levels.js';
import { SYSTEM_ROLE_DEFINITIONS, SYSTEM_ROLES, isSystemRole } from '../authz/system-roles.js';
import { ROLE_CONSTRAINTS, createRolesRepo, type RoleLists } from './repo.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { withAudit } from '../audit/recorder.js';
import { EVERY_MEMBER, type MembershipChanged } from '../authz/membership-cache.js';
import type { RoleInput, RoleViewType } from './schemas.js';

/** A role's grants without timestamps, for the audit details. */
function definitionOf(role: RoleViewType) {
  const { created_at: _c, updated_at: _u, ...definition } = role;
  return definition;
}

function systemRoleView(name: (typeof SYSTEM_ROLES)[number]): RoleViewType {
  const { description, organization, clusters, projects, environments } = SYSTEM_ROLE_DEFINITIONS[name];
  // The same tables the evaluator grants from, so what is shown cannot drift from what is enforced.
  const grants = { organization: [...organization], clusters: [...clusters], projects: [...projects], environments: Object.fromEntries(ENVIRONMENT_TYPES.map((type) => [type, [...environments[type]]])) };
  return { id: name, name, description, system: true, grants };
}

export function createRolesService(deps: { db: Kysely<Database>; membershipChanged: MembershipChanged }) {
  const repo = createRolesRepo(deps.db);

  async function view(role: CustomRole, r = repo): Promise<RoleViewType> {
    const lists = await r.lists(role.id);
    return {
      id: role.id,
      name: role.name,
      description: role.description,
      system: false,
      cluster_permissions: lists.clusters.map((c) => ({
        cluster_id: c.cluster_id,
        cluster_name: c.cluster_name,
        permission: c.permission as ClusterLevel,
      })),
      project_permissions: lists.projects.map((p) => {
        const given = ENVIRONMENT_TYPES.filter((type) => p.levels[type] !== undefined);
        return {
          project_id: p.project_id,
          project_name: p.project_name,
          is_admin: p.is_admin,
          ...(given.length > 0
            ? { permissions: given.map((type) => ({ environment_type: type, permission: p.levels[type] as ProjectLevel })) }
            : {}),
        };
      }),
      environment_permissions: lists.environments.map((e) => ({
        environment_id: e.environment_id,
        environment_name: e.environment_name,
        project_name: e.project_name,
        permissions: e.permissions as EnvironmentSet[],
      })),
      created_at: role.created_at.toISOString(),
      updated_at: role.updated_at.toISOString(),
    };
  }

  /** Checks every id belongs to this organization and nothing is listed twice; 400 names the entry. */
  async function validate(org: Organization, input: RoleInput, r = repo): Promise<RoleLists> {
    if (isSystemRole(input.name.toUpperCase()) || input.name.toUpperCase() === 'CUSTOM') {
      throw invalid('body.name', 'is the name of a system role; choose another');
    }
    const clusters = input.cluster_permissions ?? [];
    const projects = input.project_permissions ?? [];
    const environments = input.environment_permissions ?? [];

    const unique = <T>(list: T[], id: (item: T) => string, field: string) => {
      const seen = new Set<string>();
      list.forEach((item, index) => {
        if (seen.has(id(item))) throw invalid(`body.${field}[${index}]`, 'lists the same id twice');
        seen.add(id(item));
      });
    };
    unique(clusters, (c) => c.cluster_id, 'cluster_permissions');
    unique(projects, (p) => p.project_id, 'project_permissions');
    unique(environments, (e) => e.environment_id, 'environment_permissions');

    const knownClusters = await r.existingClusters(org.id, clusters.map((c) => c.cluster_id));
    clusters.forEach((c, index) => {
      if (!knownClusters.has(c.cluster_id)) {
        throw invalid(`body.cluster_permissions[${index}].cluster_id`, 'no such cluster in this organization');
      }
    });
    const knownProjects = await r.existingProjects(org.id, projects.map((p) => p.project_id));
    const projectLists = projects.map((p, index) => {
      if (!knownProjects.has(p.project_id)) {
        throw invalid(`body.project_permissions[${index}].project_id`, 'no such project in this organization');
      }
      const levels: Record<string, string> = {};
      (p.permissions ?? []).forEach((entry, j) => {
        if (levels[entry.environment_type] !== undefined) {
          throw invalid(`body.project_permissions[${index}].permissions[${j}]`, `sets ${entry.environment_type} twice`);
        }
        levels[entry.environment_type] = entry.permission;
      });
      return { project_id: p.project_id, is_admin: p.is_admin ?? false, levels };
    });
    const knownEnvironments = await r.existingEnvironments(org.id, environments.map((e) => e.environment_id));
    environments.forEach((e, index) => {
      if (!knownEnvironments.has(e.environment_id)) {
        throw invalid(`body.environment_permissions[${index}].environment_id`, 'no such environment in this organization');
      }
    });

    return {
      clusters: clusters.map((c) => ({ cluster_id: c.cluster_id, permission: c.permission })),
      projects: projectLists,
      environments: environments.map((e, index) => {
        if (new Set(e.permissions).size !== e.permissions.length) {
          throw invalid(`body.environment_permissions[${index}].permissions`, 'lists the same set twice');
        }
        return { environment_id: e.environment_id, permissions: e.permissions };
      }),
    };
  }

  const nameTaken = (name: string) => conflict(`A role named "${name}" already exists in this organization`, { field: 'name' });

  async function customRole(org: Organization, id: string): Promise<CustomRole> {
    if (isSystemRole(id)) {
      throw new AppError('CONFLICT', `${id} is a system role; system roles cannot be changed or deleted`);
    }
    const role = isUuid(id) ? await repo.byId(org.id, id) : undefined;
    if (!role) throw notFound('Role');
    return role;
  }

  return {
    async list(org: Organization): Promise<RoleViewType[]> {
      const custom = await repo.list(org.id);
      return [...SYSTEM_ROLES.map(systemRoleView), ...(await Promise.all(custom.map((role) => view(role))))];
    },

    async get(org: Organization, id: string): Promise<RoleViewType> {
      if (isSystemRole(id)) return systemRoleView(id);
      const role = isUuid(id) ? await repo.byId(org.id, id) : undefined;
      if (!role) throw notFound('Role');
      return view(role);
    },

    async create(access: RequestAccess, input: RoleInput): Promise<RoleViewType> {
      const org = access.scope.organization;
      try {
        return await withAudit(deps.db, access.audit, async (tx, note) => {
          const r = createRolesRepo(tx);
          const lists = await validate(org, input, r);
          const role = await r.insert({ organization_id: org.id, name: input.name, description: input.description ?? '' });
          await r.replaceLists(role.id, lists);
          const created = await view(role, r);
          note({ event_type: 'CREATE', target_type: 'role', target_id: role.id, target_name: role.name, change: `Created custom role ${role.name}`, details: { after: definitionOf(created) } });
          return created;
        });
      } catch (error) {
        throw translateConstraint(error, { [ROLE_CONSTRAINTS.name]: () => nameTaken(input.name) });
      }
    },

    /** Replaces the whole role (seed 001's PUT); takes effect on every member's next request. */
    async replace(access: RequestAccess, id: string, input: RoleInput): Promise<RoleViewType> {
      const org = access.scope.organization;
      const existing = await customRole(org, id);
      try {
        const replaced = await withAudit(deps.db, access.audit, async (tx, note) => {
          const r = createRolesRepo(tx);
          const before = await view(existing, r);
          const lists = await validate(org, input, r);
          const role = await r.touch(existing.id, { name: input.name, description: input.description ?? '' });
          await r.replaceLists(role.id, lists);
          const after = await view(role, r);
          note({ event_type: 'UPDATE', target_type: 'role', target_id: role.id, target_name: role.name, change: `Updated custom role ${role.name}`, details: { before: definitionOf(before), after: definitionOf(after) } });
          return after;
        });
        // Members' cached memberships carry the old version of the role (a role held by
        // nobody cannot be deleted, so deletion needs no message).
        await deps.membershipChanged(org.id, EVERY_MEMBER);
        return replaced;
      } catch (error) {
        throw translateConstraint(error, { [ROLE_CONSTRAINTS.name]: () => nameTaken(input.name) });
      }
    },

    async delete(access: RequestAccess, id: string): Promise<void> {
      const role = await customRole(access.scope.organization, id);
      await withAudit(deps.db, access.audit, async (tx, note) => {
        const r = createRolesRepo(tx);
        if (!(await r.lock(role.id))) throw notFound('Role');
        const members = await r.memberCount(role.id);
        if (members > 0) {
          throw conflict(`Role "${role.name}" is held by ${members} member(s); give them another role first`, { members });
        }
        await r.delete(role.id);
        note({ event_type: 'DELETE', target_type: 'role', target_id: role.id, target_name: role.name, change: `Deleted custom role ${role.name}` });
      });
    },

    /** The stored role as the grants compiler reads it. */
    async definition(roleId: string): Promise<(CustomRoleDefinition & { version: number }) | undefined> {
      const role = await repo.definitionRow(roleId);
      if (!role) return undefined;
      const lists = await repo.lists(roleId);
      return {
        id: role.id,
        name: role.name,
        version: role.version,
        clusters: new Map(lists.clusters.map((c) => [c.cluster_id, c.permission as ClusterLevel])),
        projects: new Map(
          lists.projects.map((p) => [
            p.project_id,
            {
              isAdmin: p.is_admin,
              levels: Object.fromEntries(
                ENVIRONMENT_TYPES.map((type) => [type, (p.levels[type] as ProjectLevel | undefined) ?? 'NO_ACCESS']),
              ) as TypeLevels,
            },
          ]),
        ),
        environments: new Map(
          lists.environments.map((e) => [e.environment_id, { projectId: e.project_id, sets: e.permissions as EnvironmentSet[] }]),
        ),
      };
    },
  };
}

export type RolesService = ReturnType<typeof createRolesService>;
