import { CliError, EXIT, type ApiClient } from './api-client.js';
import { readInputFile } from './messages.js';
import { pages, pick, type Row } from './lookup.js';

/**
 * A custom role as seed 001 writes it (name, description, cluster_permissions,
 * project_permissions, plus environment_permissions), read from a file or stdin. People
 * write projects, environments and clusters by slug or name; the API takes ids.
 */
type Json = Record<string, unknown>;

/** Drops commas before `}` or `]` outside strings: seed 001's own examples have them. */
export function withoutTrailingCommas(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i]!;
    if (inString) {
      out += char;
      if (char === '\\') out += text[++i] ?? '';
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    if (char === ',' && /^\s*[}\]]/.test(text.slice(i + 1))) continue;
    out += char;
  }
  return out;
}

/** The role JSON of `file` (`-` for stdin), or a usage error naming the file and the problem. */
export function readRoleFile(file: string): Json {
  const where = file === '-' ? 'stdin' : file;
  const text = readInputFile(file, '--file').toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(withoutTrailingCommas(text));
  } catch (error) {
    throw new CliError(`The role file ${where} is not JSON: ${(error as Error).message}`, EXIT.usage);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError(`The role file ${where} must hold one JSON object ({"name": …, "project_permissions": […]})`, EXIT.usage);
  }
  return parsed as Json;
}

const entries = (role: Json, list: string): Json[] => {
  const value = role[list];
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'object' || entry === null || Array.isArray(entry))) {
    throw new CliError(`${list} must be a list of objects`, EXIT.usage);
  }
  return value as Json[];
};

/** The reference an entry gives: its id field, else its name field (seed 001 carries both). */
function referenceOf(entry: Json, idField: string, nameField: string, list: string, index: number): string {
  const ref = entry[idField] ?? entry[nameField];
  if (typeof ref !== 'string' || ref.trim() === '') {
    throw new CliError(`${list}[${index}] needs ${idField} (an id, slug or name) or ${nameField}`, EXIT.usage);
  }
  return ref.trim();
}

/** Where an entry failed to resolve, added to the lookup's own message. */
const at = (list: string, index: number) => (error: unknown): never => {
  if (error instanceof CliError) throw new CliError(`${error.message} (${list}[${index}])`, error.exitCode);
  throw error;
};

/** The role with every project, environment and cluster reference replaced by its id. */
export async function resolveRoleReferences(api: ApiClient, org: string, role: Json): Promise<Json> {
  const base = `/orgs/${encodeURIComponent(org)}`;
  const resolved: Json = { ...role };
  const clusters = entries(role, 'cluster_permissions');
  const projectsList = entries(role, 'project_permissions');
  const environments = entries(role, 'environment_permissions');

  let projectRows: Row[] | undefined;
  const projects = async () => (projectRows ??= (await pages(api, `${base}/projects`)) as Row[]);
  const envRows = new Map<string, Row[]>();
  const environmentsOf = async (project: Row) => {
    const slug = String(project.slug);
    if (!envRows.has(slug)) envRows.set(slug, (await pages(api, `${base}/projects/${encodeURIComponent(slug)}/environments`)) as Row[]);
    return envRows.get(slug)!;
  };

  if (clusters.length > 0) {
    const rows = (await pages(api, `${base}/clusters`)) as Row[];
    resolved.cluster_permissions = clusters.map((entry, index) => {
      const ref = referenceOf(entry, 'cluster_id', 'cluster_name', 'cluster_permissions', index);
      try {
        return { ...entry, cluster_id: pick(rows, ref, ['name'], 'Cluster', org).id };
      } catch (error) {
        return at('cluster_permissions', index)(error);
      }
    });
  }
  if (projectsList.length > 0) {
    const rows = await projects();
    resolved.project_permissions = projectsList.map((entry, index) => {
      const ref = referenceOf(entry, 'project_id', 'project_name', 'project_permissions', index);
      try {
        return { ...entry, project_id: pick(rows, ref, ['slug', 'name'], 'Project', org).id };
      } catch (error) {
        return at('project_permissions', index)(error);
      }
    });
  }
  if (environments.length > 0) {
    resolved.environment_permissions = await Promise.all(
      environments.map(async (entry, index) => {
        // "shop/production", or an id, or environment_name with project_name (as the API reads them back).
        const id = entry.environment_id;
        const [projectRef, envRef] =
          typeof id === 'string' && id.includes('/')
            ? (id.split('/', 2) as [string, string])
            : typeof id === 'string'
              ? [undefined, id]
              : [entry.project_name as string | undefined, referenceOf(entry, 'environment_id', 'environment_name', 'environment_permissions', index)];
        if (projectRef === undefined) {
          if (/^[0-9a-f-]{36}$/i.test(envRef)) return { ...entry, environment_id: envRef };
          throw new CliError(`environment_permissions[${index}]: write the environment as "project/environment" or give its id`, EXIT.usage);
        }
        const project = pick(await projects(), projectRef, ['slug', 'name'], 'Project', org);
        const environment = pick(await environmentsOf(project), envRef, ['slug', 'name'], 'Environment', org, `${String(project.slug)}/${envRef}`);
        return { ...entry, environment_id: environment.id };
      }).map((promise, index) => promise.catch(at('environment_permissions', index))),
    );
  }
  return resolved;
}
