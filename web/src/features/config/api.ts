import { api, unwrap } from '../../api/client';

/** An environment, or a service in one: the places that resolve. */
export interface Place {
  org: string;
  project: string;
  env: string;
  service?: string;
}

export interface Provenance {
  scope: string;
  variable_id: string | null;
}

/** `…/resolve?explain=true` (the route's description): where each key comes from, values masked. */
export interface Explanation {
  variables: { key: string; value: string; type: string; scope: string; variable_id: string | null; mount_path?: string; masked: boolean; overrides: Provenance[]; references: string[] }[];
  pg_services: { service: string; host?: string; port?: number; dbname?: string; user?: string; password?: string; sslmode?: string; extra: Record<string, string>; scope: string; variable_id: string; overrides: Provenance[] }[];
  omitted: string[];
  omitted_reasons: { key: string; reason: string }[];
}

/** What a clear resolution holds of a pg_service entry. */
export type PgEntry = Omit<Explanation['pg_services'][number], 'overrides'>;

export const DOWNLOADS = ['dotenv', 'json', 'yaml', 'shell', 'pg_service', 'env-json', 'docker'] as const;
export type Download = (typeof DOWNLOADS)[number];

const path = (place: Place) =>
  (place.service
    ? '/api/v1/orgs/{org}/projects/{project}/environments/{env}/services/{service}/resolve'
    : '/api/v1/orgs/{org}/projects/{project}/environments/{env}/resolve') as '/api/v1/orgs/{org}/projects/{project}/environments/{env}/resolve';

async function resolve(place: Place, query: { format: Download; explain?: boolean; member?: string }, as: 'json' | 'text') {
  const result = await api.GET(path(place), { params: { path: place, query }, parseAs: as });
  return unwrap(result) as unknown;
}

export async function explain(place: Place, member?: string): Promise<Explanation> {
  return (await resolve(place, { format: 'json', explain: true, ...(member ? { member } : {}) }, 'json')) as Explanation;
}

/**
 * One key's value (or one pg_service entry) in clear, from a clear resolution (recorded as
 * READ_SECRET); the rest of the answer is dropped at once.
 */
export async function revealOne(place: Place, which: { key: string } | { service: string }, member?: string): Promise<string | PgEntry | undefined> {
  const clear = (await resolve(place, { format: 'json', ...(member ? { member } : {}) }, 'json')) as { variables: { key: string; value: string }[]; pg_services: PgEntry[] };
  if ('key' in which) return clear.variables.find((v) => v.key === which.key)?.value;
  return clear.pg_services.find((entry) => entry.service === which.service);
}

/** The resolved set in one format, as the file the browser saves. */
export async function download(place: Place, format: Download, member?: string): Promise<void> {
  const body = (await resolve(place, { format, ...(member ? { member } : {}) }, 'text')) as string;
  const extension = { dotenv: 'env', json: 'json', 'env-json': 'json', yaml: 'yaml', shell: 'sh', pg_service: 'conf', docker: 'env' }[format];
  const name = `${[place.project, place.env, place.service].filter(Boolean).join('-')}${format === 'pg_service' ? '.pg_service' : ''}.${extension}`;
  const url = URL.createObjectURL(new Blob([body], { type: 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  // The file is the browser's now; the page keeps nothing of it.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
