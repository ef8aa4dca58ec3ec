import { useQuery } from '@tanstack/react-query';
import { api, unwrap, type paths } from '../../api/client';

export type Role = paths['/api/v1/orgs/{org}/roles']['get']['responses'][200]['content']['application/json']['items'][number];
export type RoleInput = NonNullable<paths['/api/v1/orgs/{org}/roles']['post']['requestBody']>['content']['application/json'];
type ProjectPermission = NonNullable<RoleInput['project_permissions']>[number];
type EnvironmentPermission = NonNullable<RoleInput['environment_permissions']>[number];
export type ClusterLevel = NonNullable<RoleInput['cluster_permissions']>[number]['permission'];
export type ProjectLevel = NonNullable<ProjectPermission['permissions']>[number]['permission'];
export type EnvironmentType = NonNullable<ProjectPermission['permissions']>[number]['environment_type'];
export type EnvironmentSet = EnvironmentPermission['permissions'][number];

// The API's enums, in the order the SPEC gives them (each level includes the one before); checked against the schema.
export const CLUSTER_LEVELS = ['VIEWER', 'ENV_CREATOR', 'ADMIN'] as const satisfies readonly ClusterLevel[];
export const PROJECT_LEVELS = ['NO_ACCESS', 'VIEWER', 'DEPLOYER', 'MANAGER', 'ADMIN'] as const satisfies readonly ProjectLevel[];
export const ENVIRONMENT_TYPES = ['DEVELOPMENT', 'PREVIEW', 'STAGING', 'PRODUCTION'] as const satisfies readonly EnvironmentType[];
export const ENVIRONMENT_SETS = [
  'BASIC_VISIBILITY',
  'FULL_VISIBILITY',
  'ENVIRONMENT_ADMIN',
  'DEPLOYMENT',
  'DESTRUCTION',
  'OPS',
  'SENSITIVE_ACCESS',
  'TUNNEL',
] as const satisfies readonly EnvironmentSet[];

/** One action of the server's catalogue (`x-coffer-actions` of the OpenAPI document). */
export interface CatalogueAction {
  action: string;
  level: 'organization' | 'cluster' | 'project' | 'environment';
  description: string;
}

/** The action catalogue, read from the server's OpenAPI document: the console keeps no copy of its own. */
export function useCatalogue() {
  return useQuery({
    queryKey: ['/api/v1/openapi.json', 'x-coffer-actions'],
    queryFn: async (): Promise<CatalogueAction[]> => {
      const response = await fetch('/api/v1/openapi.json', { credentials: 'same-origin' });
      if (!response.ok) throw new Error(`The server answered ${response.status} for its action catalogue`);
      return ((await response.json()) as { 'x-coffer-actions': CatalogueAction[] })['x-coffer-actions'];
    },
    staleTime: Infinity,
  });
}

export const rolesKey = (org: string) => ['/api/v1/orgs/{org}/roles', org];

export function useRoles(org: string) {
  return useQuery({
    queryKey: rolesKey(org),
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/roles', { params: { path: { org } } })),
  });
}

/** The clusters, projects and every project's environments: the rows of the role editor. */
export function usePlaces(org: string, enabled: boolean) {
  const clusters = useQuery({
    queryKey: ['/api/v1/orgs/{org}/clusters', org],
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/clusters', { params: { path: { org }, query: { limit: 200 } } })),
    enabled,
  });
  const projects = useQuery({
    queryKey: ['/api/v1/orgs/{org}/projects', org],
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/projects', { params: { path: { org }, query: { limit: 200 } } })),
    enabled,
  });
  const environments = useQuery({
    queryKey: ['role editor environments', org, projects.data?.items.map((p) => p.slug)],
    queryFn: async () =>
      (
        await Promise.all(
          (projects.data?.items ?? []).map(async (project) => {
            const list = unwrap(await api.GET('/api/v1/orgs/{org}/projects/{project}/environments', { params: { path: { org, project: project.slug }, query: { limit: 200 } } }));
            return list.items.map((environment) => ({ ...environment, project_slug: project.slug }));
          }),
        )
      ).flat(),
    enabled: enabled && projects.data !== undefined,
  });
  return { clusters, projects, environments };
}

/**
 * Parses role JSON as people paste it: seed 001's own `platformengineer.json` carries a comma
 * before a closing brace, so commas that close nothing are dropped (outside strings) first.
 */
export function parseRoleJson(text: string): RoleInput {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === ',' && /^\s*[}\]]/.test(text.slice(i + 1))) {
      // a trailing comma: left out
    } else out += c;
  }
  const parsed: unknown = JSON.parse(out);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('The role JSON must be an object');
  return parsed as RoleInput;
}

/** A role as the body that would recreate it: what the JSON tab shows. */
export function roleInputOf(role: Role): RoleInput {
  const { id: _id, system: _system, grants: _grants, created_at: _c, updated_at: _u, ...input } = role;
  return input;
}
