import { CliError, EXIT, type ApiClient } from './api-client.js';

/**
 * People name things (an email, a role's name, a token's name, a project's slug or name); the
 * API takes ids. These look the name up in the organization's list and, when it is not there,
 * say what was asked for and where: `Role "qa" not found in organization "acme"`.
 */
export type Row = Record<string, unknown> & { id: string };

/** Every item of a paged list (routes answering `next_cursor`); `paged: false` lists come whole and take no `limit`. */
export async function pages(api: ApiClient, path: string, paged = true): Promise<Record<string, unknown>[]> {
  if (!paged) return ((await api.request('GET', path)).json() as { items: Record<string, unknown>[] }).items;
  const items: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const page = (await api.request('GET', `${path}${separator}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json() as {
      items: Record<string, unknown>[];
      next_cursor: string | null;
    };
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

const org$ = (org: string) => `/orgs/${encodeURIComponent(org)}`;
const lower = (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : undefined);

/** The one row whose id or one of `fields` is `ref` (case-insensitive), or a CliError naming `what`. */
export function pick<T extends Row>(rows: T[], ref: string, fields: string[], what: string, org: string, shown = ref): T {
  const wanted = ref.toLowerCase();
  const byId = rows.find((row) => lower(row.id) === wanted);
  if (byId) return byId;
  for (const field of fields) {
    const matches = rows.filter((row) => lower(row[field]) === wanted);
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new CliError(`${what} "${shown}" is ambiguous in organization "${org}": ${matches.length} have that ${field}; give the id (${matches.map((m) => m.id).join(', ')})`, EXIT.usage);
    }
  }
  throw new CliError(`${what} "${shown}" not found in organization "${org}"`, EXIT.notFound);
}

export async function findProject(api: ApiClient, org: string, ref: string): Promise<Row> {
  return pick((await pages(api, `${org$(org)}/projects`)) as Row[], ref, ['slug', 'name'], 'Project', org);
}

export async function findEnvironment(api: ApiClient, org: string, project: Row, ref: string): Promise<Row> {
  const rows = (await pages(api, `${org$(org)}/projects/${encodeURIComponent(String(project.slug))}/environments`)) as Row[];
  return pick(rows, ref, ['slug', 'name'], 'Environment', org, `${String(project.slug)}/${ref}`);
}

export async function findCluster(api: ApiClient, org: string, ref: string): Promise<Row> {
  return pick((await pages(api, `${org$(org)}/clusters`)) as Row[], ref, ['name'], 'Cluster', org);
}

export async function findMember(api: ApiClient, org: string, ref: string): Promise<Row> {
  const rows = ((await pages(api, `${org$(org)}/members`)) as Record<string, unknown>[]).map((m) => ({ ...m, id: String(m.user_id) }));
  return pick(rows, ref, ['email'], 'Member', org);
}

export async function findToken(api: ApiClient, org: string, ref: string): Promise<Row> {
  return pick((await pages(api, `${org$(org)}/tokens`, false)) as Row[], ref, ['name'], 'Token', org);
}

/** A system role (by its name, any case) or a custom role (by name or id). */
export async function findRole(api: ApiClient, org: string, ref: string): Promise<Row & { system: boolean; name: string }> {
  return pick((await pages(api, `${org$(org)}/roles`, false)) as (Row & { system: boolean; name: string })[], ref, ['name'], 'Role', org);
}
