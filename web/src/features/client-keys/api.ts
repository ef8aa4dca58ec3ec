import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { api, unwrap } from '../../api/client';
import type { UnlockedProject, ValueScope } from './crypto';

/** Where a page is: a project, maybe an environment, maybe a service in it. */
export interface ClientPlace {
  org: string;
  project?: string;
  env?: string;
  service?: string;
}

/** 'client' when the page's project is client-managed (its values are the clients' ciphertext). */
export function useEncryption(org: string, project: string | undefined): 'client' | 'server' | undefined {
  const answer = useQuery({
    queryKey: ['/api/v1/orgs/{org}/projects/{project}', org, project ?? ''],
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/projects/{project}', { params: { path: { org, project: project! } } })),
    enabled: Boolean(project),
  });
  // Not allowed to read the project itself: the pages behave as for a server-managed one (the resolution still says which it is).
  if (!project || answer.error) return 'server';
  return answer.data?.encryption;
}

/** The ids values at this place are bound to (the environment's and the service's), fetched once the project is unlocked. */
export function usePlaceIds(place: ClientPlace, enabled: boolean): { environmentId: string | null; serviceId: string | null } | undefined {
  const { org, project, env, service } = place;
  const environment = useQuery({
    queryKey: ['/api/v1/orgs/{org}/projects/{project}/environments/{env}', org, project ?? '', env ?? ''],
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/projects/{project}/environments/{env}', { params: { path: { org, project: project!, env: env! } } })),
    enabled: enabled && Boolean(project && env),
  });
  const svc = useQuery({
    queryKey: ['/api/v1/orgs/{org}/projects/{project}/environments/{env}/services/{service}', org, project ?? '', env ?? '', service ?? ''],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/orgs/{org}/projects/{project}/environments/{env}/services/{service}', { params: { path: { org, project: project!, env: env!, service: service! } } })),
    enabled: enabled && Boolean(project && env && service),
  });
  const ready = enabled && (!env || Boolean(environment.data)) && (!service || Boolean(svc.data));
  const environmentId = environment.data?.id ?? null;
  const serviceId = svc.data?.id ?? null;
  // One object while the ids stay the same: effects that decrypt depend on it.
  return useMemo(() => (ready ? { environmentId, serviceId } : undefined), [ready, environmentId, serviceId]);
}

/** The scope a value is bound to, from where it lives (the CLI's valueScope). */
export function valueScope(level: string, ids: { environmentId?: string | null; serviceId?: string | null; memberId?: string | null }): ValueScope {
  const need = (id: string | null | undefined) => {
    if (!id) throw new Error(`The server's answer lacks the id of the ${level} a value lives in`);
    return id;
  };
  switch (level) {
    case 'project':
      return { level: 'project' };
    case 'environment':
      return { level: 'environment', id: need(ids.environmentId) };
    case 'service':
      return { level: 'service', id: need(ids.serviceId) };
    case 'member':
      return { level: 'member', id: need(ids.memberId) };
    default:
      throw new Error(`A client-managed value cannot live at ${level} scope`);
  }
}

/** The crypto (and hash-wasm's Argon2id) loads only when a client-managed project is opened. */
export const loadCrypto = () => import('./crypto');

/** Decrypts one value where it lives; errors name the key. */
export async function decryptAt(opened: UnlockedProject, envelope: string, scope: ValueScope, key: string, version: number): Promise<string> {
  const { decryptValue } = await loadCrypto();
  return decryptValue(opened.key, envelope, { organizationId: opened.organizationId, projectId: opened.projectId, scope, key, version }, opened.keyVersion);
}

/** Encrypts one value for where it will live and the version the write creates. */
export async function encryptAt(opened: UnlockedProject, plaintext: string, scope: ValueScope, key: string, version: number): Promise<string> {
  const { encryptValue } = await loadCrypto();
  return encryptValue(opened.key, plaintext, { organizationId: opened.organizationId, projectId: opened.projectId, scope, key, version, keyVersion: opened.keyVersion });
}

/**
 * The key material (key:retrieve), then the key unwrapped here with the passphrase; the
 * passphrase goes nowhere else. `derivedMs`: Argon2id and the unwrap, without the fetch.
 */
export async function unlockProject(org: string, project: string, passphrase: string): Promise<{ opened: UnlockedProject; derivedMs: number }> {
  const [material, { unwrapProjectKey }] = await Promise.all([
    api.GET('/api/v1/orgs/{org}/projects/{project}/key', { params: { path: { org, project } } }).then(unwrap),
    loadCrypto(),
  ]);
  const start = performance.now();
  const opened = await unwrapProjectKey(material, passphrase);
  return { opened, derivedMs: Math.round(performance.now() - start) };
}

/** What `…/resolve?format=json` answers for a client-managed project (modules/variables/client-resolution.ts). */
export interface ClientResolution {
  encryption: 'client';
  binding: { organization_id: string; project_id: string; environment_id: string; service_id: string | null; member_id: string | null };
  variables: { key: string; value: string; type: 'plain' | 'secret' | 'file'; scope: string; variable_id: string | null; mount_path?: string; version?: number; encryption: 'client' | 'server' }[];
  pg_services: { service: string; scope: string }[];
  omitted: string[];
}

export async function clientResolution(place: Required<Omit<ClientPlace, 'service'>> & { service?: string }, member?: string): Promise<ClientResolution> {
  const path = (place.service
    ? '/api/v1/orgs/{org}/projects/{project}/environments/{env}/services/{service}/resolve'
    : '/api/v1/orgs/{org}/projects/{project}/environments/{env}/resolve') as '/api/v1/orgs/{org}/projects/{project}/environments/{env}/resolve';
  const result = await api.GET(path, { params: { path: place, query: { format: 'json', ...(member ? { member } : {}) } }, parseAs: 'json' });
  return unwrap(result) as unknown as ClientResolution;
}

/** One client value decrypted from a resolution, bound as the resolution says. */
export function decryptResolved(opened: UnlockedProject, resolution: ClientResolution, variable: ClientResolution['variables'][number]): Promise<string> {
  const { binding } = resolution;
  if (binding.project_id !== opened.projectId || binding.organization_id !== opened.organizationId) throw new Error('The resolution names another project than the key it was read with');
  if (variable.encryption !== 'client') return Promise.resolve(variable.value);
  const ids = { environmentId: binding.environment_id, serviceId: binding.service_id, memberId: binding.member_id };
  return decryptAt(opened, variable.value, valueScope(variable.scope, ids), variable.key, variable.version!);
}
