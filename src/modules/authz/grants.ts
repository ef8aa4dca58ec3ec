import { ENVIRONMENT_TYPES, type EnvironmentType } from '../../kernel/db/schema.js';
import type { Grants } from '../../kernel/authz/authorizer.js';
import type { Action } from '../../kernel/authz/catalogue.js';
import {
  CLUSTER_LEVEL_ACTIONS,
  ENVIRONMENT_ACTIONS,
  ENVIRONMENT_SET_ACTIONS,
  PROJECT_LEVEL_ACTIONS,
  type ClusterLevel,
  type EnvironmentSet,
  type TypeLevels,
} from './levels.js';
import { SYSTEM_ROLE_DEFINITIONS, type SystemRole } from './system-roles.js';

/** What one project grants: project actions, and environment actions per environment type. */
export interface ProjectGrant {
  project: ReadonlySet<Action>;
  byType: Readonly<Record<EnvironmentType, ReadonlySet<Action>>>;
  /** Union over types: "somewhere in this project" (e.g. may create some environment here). */
  anyType: ReadonlySet<Action>;
}

/** A custom role as stored: the three lists of SPEC §2.3, by id. */
export interface CustomRoleDefinition {
  id: string;
  name: string;
  clusters: ReadonlyMap<string, ClusterLevel>;
  projects: ReadonlyMap<string, { isAdmin: boolean; levels: TypeLevels }>;
  /** environment id → its project's id and the sets granted on it. */
  environments: ReadonlyMap<string, { projectId: string; sets: readonly EnvironmentSet[] }>;
}

export type GrantOrigin = { kind: 'system'; role: SystemRole } | { kind: 'custom'; role: CustomRoleDefinition };

// The kernel carries a membership's grants without knowing their shape: they are given it here.
declare module '../../kernel/authz/authorizer.js' {
  /**
   * Everything a membership holds in its organization, compiled into sets so that a check
   * is a few hash lookups (the evaluator has no I/O).
   */
  interface Grants {
    origin: GrantOrigin;
    organization: ReadonlySet<Action>;
    allClusters: ReadonlySet<Action>;
    clusters: ReadonlyMap<string, ReadonlySet<Action>>;
    allProjects: ProjectGrant | null;
    projects: ReadonlyMap<string, ProjectGrant>;
    environments: ReadonlyMap<string, ReadonlySet<Action>>;
    /** project id → environment actions granted on some environment of it by a permission set. */
    environmentsByProject: ReadonlyMap<string, ReadonlySet<Action>>;
  }
}
export type { Grants };

const EMPTY: ReadonlySet<Action> = new Set();

function projectGrant(project: readonly Action[], byType: Record<EnvironmentType, readonly Action[]>): ProjectGrant {
  const sets = Object.fromEntries(ENVIRONMENT_TYPES.map((type) => [type, new Set(byType[type])])) as unknown as Record<
    EnvironmentType,
    ReadonlySet<Action>
  >;
  return { project: new Set(project), byType: sets, anyType: new Set(ENVIRONMENT_TYPES.flatMap((type) => byType[type])) };
}

const systemGrants = new Map<SystemRole, Grants>();

/** The compiled grants of a system role (computed once per process). */
export function grantsOfSystemRole(role: SystemRole): Grants {
  let grants = systemGrants.get(role);
  if (!grants) {
    const definition = SYSTEM_ROLE_DEFINITIONS[role];
    grants = {
      origin: { kind: 'system', role },
      organization: new Set(definition.organization),
      allClusters: new Set(definition.clusters),
      clusters: new Map(),
      allProjects: projectGrant(definition.projects, definition.environments),
      projects: new Map(),
      environments: new Map(),
      environmentsByProject: new Map(),
    };
    systemGrants.set(role, grants);
  }
  return grants;
}

/** Compiles a custom role. Its members always hold organization:read and never another organization action. */
export function grantsOfCustomRole(role: CustomRoleDefinition): Grants {
  const clusters = new Map<string, ReadonlySet<Action>>();
  for (const [clusterId, level] of role.clusters) clusters.set(clusterId, new Set(CLUSTER_LEVEL_ACTIONS[level]));

  const projects = new Map<string, ProjectGrant>();
  for (const [projectId, { isAdmin, levels }] of role.projects) {
    const byType = Object.fromEntries(
      ENVIRONMENT_TYPES.map((type) => [type, isAdmin ? ENVIRONMENT_ACTIONS : PROJECT_LEVEL_ACTIONS[levels[type]]]),
    ) as Record<EnvironmentType, readonly Action[]>;
    // SPEC §2.3: a project whose types are all NO_ACCESS is invisible.
    const visible = isAdmin || ENVIRONMENT_TYPES.some((type) => levels[type] !== 'NO_ACCESS');
    const projectActions: Action[] = isAdmin ? ['project:read', 'project:write'] : visible ? ['project:read'] : [];
    projects.set(projectId, projectGrant(projectActions, byType));
  }

  const environments = new Map<string, ReadonlySet<Action>>();
  const environmentsByProject = new Map<string, Set<Action>>();
  for (const [environmentId, { projectId, sets }] of role.environments) {
    // An entry granting nothing must not make its project visible either.
    if (sets.length === 0) continue;
    const actions = new Set(sets.flatMap((set) => ENVIRONMENT_SET_ACTIONS[set]));
    environments.set(environmentId, actions);
    const inProject = environmentsByProject.get(projectId) ?? new Set<Action>();
    for (const action of actions) inProject.add(action);
    environmentsByProject.set(projectId, inProject);
  }

  return {
    origin: { kind: 'custom', role },
    organization: new Set<Action>(['organization:read']),
    allClusters: EMPTY,
    clusters,
    allProjects: null,
    projects,
    environments,
    environmentsByProject,
  };
}
