import { api, unwrap, type paths } from '../../api/client';

type OrgVariables = paths['/api/v1/orgs/{org}/variables'];
export type Variable = OrgVariables['get']['responses'][200]['content']['application/json']['items'][number];
export type CreateVariable = NonNullable<OrgVariables['post']['requestBody']>['content']['application/json'];
export type UpdateVariable = NonNullable<paths['/api/v1/orgs/{org}/variables/{id}']['patch']['requestBody']>['content']['application/json'];

/** A scope's place in the hierarchy, from the page's URL. */
export interface Scope {
  org: string;
  project?: string;
  env?: string;
  service?: string;
}

/** The API path of a scope's variables: the same routes, and the same views, at each of the four levels. */
export function variablesPath(scope: Scope): string {
  let path = '/api/v1/orgs/{org}';
  if (scope.project) path += '/projects/{project}';
  if (scope.env) path += '/environments/{env}';
  if (scope.service) path += '/services/{service}';
  return `${path}/variables`;
}

/** "project/env/service" as authz/check names the place; undefined for the organization. */
export function resourceOf(scope: Scope): string | undefined {
  return [scope.project, scope.env, scope.service].filter(Boolean).join('/') || undefined;
}

// The four levels share their request and response schemas, so one level's types stand for all;
// openapi-fetch fills every {name} in the path from `params.path`.
type LIST = '/api/v1/orgs/{org}/variables';
type ONE = '/api/v1/orgs/{org}/variables/{id}';
const pathParams = (scope: Scope, id?: string) => ({ ...scope, ...(id ? { id } : {}) }) as { org: string; id: string };
const one = (scope: Scope) => `${variablesPath(scope)}/{id}` as ONE;

export async function listVariables(scope: Scope): Promise<Variable[]> {
  const items: Variable[] = [];
  let cursor: string | undefined;
  do {
    const page = unwrap(await api.GET(variablesPath(scope) as LIST, { params: { path: pathParams(scope), query: { limit: 500, ...(cursor ? { cursor } : {}) } } }));
    items.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return items;
}

export async function createVariable(scope: Scope, body: CreateVariable): Promise<Variable> {
  return unwrap(await api.POST(variablesPath(scope) as LIST, { params: { path: pathParams(scope) }, body }));
}

type BATCH = '/api/v1/orgs/{org}/variables/batch';
export type BatchOutcome = paths[BATCH]['post']['responses'][200]['content']['application/json'];

/** Many creates and updates at one scope in one request: all or nothing (POST …/variables/batch). */
export async function importVariables(scope: Scope, variables: { key: string; value: string; type?: 'plain' | 'secret' }[]): Promise<BatchOutcome> {
  return unwrap(await api.POST(`${variablesPath(scope)}/batch` as BATCH, { params: { path: pathParams(scope) }, body: { variables } }));
}

export async function updateVariable(scope: Scope, id: string, body: UpdateVariable): Promise<Variable> {
  return unwrap(await api.PATCH(one(scope), { params: { path: pathParams(scope, id) }, body }));
}

export async function deleteVariable(scope: Scope, id: string): Promise<void> {
  unwrap(await api.DELETE(one(scope), { params: { path: pathParams(scope, id) } }));
}

interface Resolution {
  variables: { key: string; value: string; variable_id: string | null }[];
}

/**
 * A secret's value in clear, through the API's resolution (which needs secret:decrypt and is
 * recorded as READ_SECRET): only environments and services resolve. Undefined when this
 * variable is not the one that wins there (a lower scope overrides it).
 */
export async function revealVariable(scope: Scope, id: string): Promise<string | undefined> {
  const path = variablesPath(scope).replace(/\/variables$/, '/resolve') as '/api/v1/orgs/{org}/projects/{project}/environments/{env}/resolve';
  const result = await api.GET(path, { params: { path: scope as { org: string; project: string; env: string }, query: { format: 'json' } }, parseAs: 'json' });
  const resolution = unwrap(result) as unknown as Resolution;
  return resolution.variables.find((v) => v.variable_id === id)?.value;
}

type VERSIONS = '/api/v1/orgs/{org}/variables/{id}/versions';
export type VariableVersion = paths[VERSIONS]['get']['responses'][200]['content']['application/json']['items'][number];

/** Every version of a variable, newest first (secret values stay masked by the server). */
export async function listVersions(scope: Scope, id: string): Promise<VariableVersion[]> {
  const items: VariableVersion[] = [];
  let cursor: string | undefined;
  do {
    const page = unwrap(await api.GET(`${variablesPath(scope)}/{id}/versions` as VERSIONS, { params: { path: pathParams(scope, id), query: { limit: 200, ...(cursor ? { cursor } : {}) } } }));
    items.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return items;
}

/** Rolls a variable back to an earlier version, as a new version. */
export async function rollbackVariable(scope: Scope, id: string, version: number): Promise<Variable> {
  return unwrap(await api.POST(`${variablesPath(scope)}/{id}/rollback` as '/api/v1/orgs/{org}/variables/{id}/rollback', { params: { path: pathParams(scope, id) }, body: { version } }));
}
