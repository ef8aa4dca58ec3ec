import type { ResolvedPgService, ResolvedVariable } from './formats.js';
import { mergeDefinitions, type Builtin, type Definition } from './resolve.js';

/** The ids a client binds a client-managed project's values to (kernel/crypto/client-envelope.ts). */
export interface ClientBinding {
  organization_id: string;
  project_id: string;
  environment_id: string;
  service_id: string | null;
  member_id: string | null;
}

/** What `…/resolve` answers for a client-managed project: the JSON the CLI decrypts and expands. */
export interface ClientResolution {
  encryption: 'client';
  /** `${KEY}` references are left for the client, which alone can read the values. */
  references: 'client';
  binding: ClientBinding;
  variables: (ResolvedVariable & { encryption: 'client' | 'server' })[];
  /** Only organization entries reach a client-managed project, server-managed (pgServiceRefusal). */
  pg_services: (ResolvedPgService & { encryption: 'server' })[];
  omitted: string[];
}

/**
 * The merged set of a client-managed project, unexpanded: the project's own values as the
 * client's ciphertext with the version each is bound to, and what stays server-managed
 * (organization variables and pg_service entries, built-in service outputs) in clear, marked `server`. Credentials
 * the caller may not read are left out as in every resolution.
 */
export function clientResolution(definitions: readonly Definition[], builtins: readonly Builtin[], mayReadCredentials: (serviceId: string) => boolean, binding: ClientBinding): ClientResolution {
  const { winners, pgServices, omitted } = mergeDefinitions(definitions, builtins, mayReadCredentials);
  const variables = [...winners.values()]
    .filter(({ variable }) => !omitted.has(variable.key))
    .map(({ variable }) => ({ ...variable, encryption: variable.version !== undefined ? ('client' as const) : ('server' as const) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const services = pgServices.map((entry) => ({ ...entry, encryption: 'server' as const }));
  return { encryption: 'client', references: 'client', binding, variables, pg_services: services, omitted: [...omitted].sort() };
}
