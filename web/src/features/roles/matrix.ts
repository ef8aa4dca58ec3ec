import { ENVIRONMENT_TYPES, type ClusterLevel, type EnvironmentSet, type EnvironmentType, type ProjectLevel, type RoleInput } from './api';

/** The role editor's state: one entry per cluster, project and environment of the organization, by id. */
export interface Matrix {
  name: string;
  description: string;
  clusters: Record<string, ClusterLevel | ''>;
  projects: Record<string, { is_admin: boolean; levels: Record<EnvironmentType, ProjectLevel> }>;
  environments: Record<string, EnvironmentSet[]>;
}

export interface Places {
  clusters: { id: string; name: string }[];
  projects: { id: string; name: string }[];
  environments: { id: string; name: string; project_slug: string; slug: string }[];
}

const noAccess = () => Object.fromEntries(ENVIRONMENT_TYPES.map((type) => [type, 'NO_ACCESS'])) as Record<EnvironmentType, ProjectLevel>;

/** The matrix a role body describes (what it leaves out is no access). */
export function matrixOf(input: RoleInput): Matrix {
  const matrix: Matrix = { name: input.name, description: input.description ?? '', clusters: {}, projects: {}, environments: {} };
  for (const c of input.cluster_permissions ?? []) matrix.clusters[c.cluster_id] = c.permission;
  for (const p of input.project_permissions ?? []) {
    const levels = noAccess();
    for (const l of p.permissions ?? []) levels[l.environment_type] = l.permission;
    matrix.projects[p.project_id] = { is_admin: p.is_admin ?? false, levels };
  }
  for (const e of input.environment_permissions ?? []) matrix.environments[e.environment_id] = [...e.permissions];
  return matrix;
}

/**
 * The role body of a matrix, in the organization's order: every project is listed (seed 001
 * lists even those with NO_ACCESS everywhere); an admin project carries no levels, as in the seed.
 */
export function inputOf(matrix: Matrix, places: Places): RoleInput {
  return {
    name: matrix.name,
    description: matrix.description,
    cluster_permissions: places.clusters.flatMap((c) => {
      const permission = matrix.clusters[c.id];
      return permission ? [{ cluster_id: c.id, cluster_name: c.name, permission }] : [];
    }),
    project_permissions: places.projects.map((p) => {
      const entry = matrix.projects[p.id] ?? { is_admin: false, levels: noAccess() };
      if (entry.is_admin) return { project_id: p.id, project_name: p.name, is_admin: true };
      return {
        project_id: p.id,
        project_name: p.name,
        is_admin: false,
        permissions: ENVIRONMENT_TYPES.map((type) => ({ environment_type: type, permission: entry.levels[type] })),
      };
    }),
    environment_permissions: places.environments.flatMap((e) => {
      const sets = matrix.environments[e.id] ?? [];
      return sets.length > 0 ? [{ environment_id: e.id, permissions: sets }] : [];
    }),
  };
}

export function projectEntry(matrix: Matrix, id: string) {
  return matrix.projects[id] ?? { is_admin: false, levels: noAccess() };
}
