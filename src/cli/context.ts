import { createApiClient, CliError, EXIT, type ApiClient } from './api-client.js';
import { DEFAULT_URL, readCredentials } from './credentials.js';

/** Where commands talk to and as whom: COFFER_URL and COFFER_TOKEN win over what `coffer login` stored. */
export function apiFromEnvironment(env: NodeJS.ProcessEnv = process.env): ApiClient {
  const stored = readCredentials(env);
  const url = (env.COFFER_URL || stored?.url || DEFAULT_URL).replace(/\/+$/, '');
  const token = env.COFFER_TOKEN || (stored && stored.url === url ? stored.token : undefined);
  if (!token) {
    // Say which server was tried and why there is no session for it: a COFFER_URL other than the
    // one signed in to is the usual cause, and "Not signed in" alone sends people to the wrong fix.
    const from = env.COFFER_URL ? 'COFFER_URL' : stored ? 'your stored session' : 'the default';
    if (stored && stored.url !== url) {
      throw new CliError(
        `Not signed in to ${url} (from ${from}): your stored session is for ${stored.url}. ` +
          `Run coffer login --url ${url}, set COFFER_TOKEN, or unset COFFER_URL to use ${stored.url}`,
        EXIT.unauthenticated,
      );
    }
    throw new CliError(`Not signed in to ${url} (from ${from}): run coffer login (or coffer login --token cfr_…), or set COFFER_TOKEN`, EXIT.unauthenticated);
  }
  return createApiClient({ url, token });
}

/** The organization: --org, else COFFER_ORG, else the only one the principal belongs to. */
export async function organizationOf(api: ApiClient, flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const chosen = flag ?? env.COFFER_ORG;
  if (chosen) return chosen;
  // An API token belongs to exactly one organization, and can say which.
  if (api.token?.startsWith('cfr_')) return ((await api.request('GET', '/token')).json() as { organization: { slug: string } }).organization.slug;
  const response = await api.request('GET', '/orgs?limit=2');
  const orgs = (response.json() as { items: { slug: string }[] }).items;
  if (orgs.length === 1) return orgs[0]!.slug;
  throw new CliError(
    orgs.length === 0 ? 'You belong to no organization yet: create one with coffer orgs create <slug>' : 'You belong to several organizations: choose one with --org <slug> or COFFER_ORG',
    EXIT.usage,
  );
}

/** `project/env[/service]` → the API path of that place. */
export function placePath(org: string, place: string): { path: string; parts: string[] } {
  const parts = place.split('/').filter((part) => part !== '');
  if (parts.length < 1 || parts.length > 3) {
    throw new CliError(`--path must be project, project/environment or project/environment/service (got "${place}")`, EXIT.usage);
  }
  const [project, env, service] = parts.map(encodeURIComponent);
  let path = `/orgs/${encodeURIComponent(org)}/projects/${project}`;
  if (env) path += `/environments/${env}`;
  if (service) path += `/services/${service}`;
  return { path, parts };
}

/** Says where a refusal happened: "This token lacks the scope secret:decrypt (on acme/shop/production)". */
export function onPlace(place: string) {
  return (error: unknown): never => {
    if (error instanceof CliError && (error.exitCode === EXIT.forbidden || error.exitCode === EXIT.notFound)) {
      throw new CliError(`${error.message} (on ${place})`, error.exitCode);
    }
    throw error;
  };
}
