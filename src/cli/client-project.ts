import type { WrappedProjectKey, ValueScope } from '../kernel/crypto/client-envelope.js';
import { AppError } from '../kernel/errors.js';
import type { ClientResolution } from '../modules/variables/client-resolution.js';
import type { Resolution, ResolvedVariable } from '../modules/variables/formats.js';
import { expandReferences } from '../modules/variables/resolve.js';
import { CliError, EXIT, type ApiClient } from './api-client.js';
import { ClientKeyError, decryptValue, encryptValue, unwrapProjectKey } from './client-keys.js';
import { readInputFile } from './messages.js';
import { prompt } from './commands/session.js';

/**
 * The CLI side of client-managed projects (issue #13): the passphrase, the project key
 * (derived once, kept only in this process's memory), and decryption of what the server sends.
 */

export const PASSPHRASE_OPTION = ['--passphrase-file <file>', 'client-managed projects: read the passphrase from FILE (else COFFER_PASSPHRASE, else a prompt)'] as const;

/** The passphrase: --passphrase-file, else `variable` (COFFER_PASSPHRASE), else the terminal (twice when `confirm`). */
export async function readPassphrase(options: { file?: string; variable?: string; what?: string; confirm?: boolean } = {}): Promise<string> {
  const variable = options.variable ?? 'COFFER_PASSPHRASE';
  const what = options.what ?? 'Passphrase';
  if (options.file !== undefined) {
    const text = readInputFile(options.file, '--passphrase-file').toString('utf8').replace(/\r?\n$/, '');
    if (text === '') throw new CliError(`--passphrase-file ${options.file} is empty`, EXIT.usage);
    return text;
  }
  const fromEnv = process.env[variable];
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) throw new CliError(`This project is client-managed: give its passphrase in ${variable} or with --passphrase-file FILE`, EXIT.usage);
  const first = await prompt(`${what}: `, true);
  if (first === '') throw new CliError(`${what}: empty`, EXIT.usage);
  if (options.confirm && (await prompt(`Repeat the ${what.toLowerCase()}: `, true)) !== first) throw new CliError(`The two ${what.toLowerCase()}s differ: nothing was changed`, EXIT.usage);
  return first;
}

export interface OpenedProject {
  key: Buffer;
  keyVersion: number;
  organizationId: string;
  projectId: string;
  material: WrappedProjectKey;
}

const projectPath = (org: string, project: string) => `/orgs/${encodeURIComponent(org)}/projects/${encodeURIComponent(project)}`;

/** 'client' or 'server', from the project's own answer. */
export async function encryptionOf(api: ApiClient, org: string, project: string): Promise<'client' | 'server'> {
  return ((await api.request('GET', projectPath(org, project))).json() as { encryption?: 'client' | 'server' }).encryption ?? 'server';
}

const opened = new Map<string, OpenedProject>();

/** The project key, unwrapped with the passphrase (key:retrieve); derived once per process. */
export async function openProject(api: ApiClient, org: string, project: string, passphraseFile?: string): Promise<OpenedProject> {
  const cached = opened.get(`${org}/${project}`);
  if (cached) return cached;
  const material = (await api.request('GET', `${projectPath(org, project)}/key`)).json() as WrappedProjectKey & { organization_id: string; project_id: string };
  const passphrase = await readPassphrase({ file: passphraseFile });
  const context = { organizationId: material.organization_id, projectId: material.project_id };
  const key = await unwrapProjectKey(material, passphrase, context).catch(asCliError);
  const result = { key, keyVersion: material.key_version, ...context, material };
  opened.set(`${org}/${project}`, result);
  return result;
}

/** Client key errors (wrong passphrase, tampering, absurd parameters) are refusals the user can act on: exit 6. */
export function asCliError(error: unknown): never {
  if (error instanceof ClientKeyError || error instanceof AppError) throw new CliError(error.message, EXIT.rejected);
  throw error;
}

export function encryptFor(project: OpenedProject, plaintext: string, scope: ValueScope, key: string, version: number): string {
  return encryptValue(project.key, plaintext, { organizationId: project.organizationId, projectId: project.projectId, scope, key, version, keyVersion: project.keyVersion });
}

export function decryptFor(project: OpenedProject, envelope: string, scope: ValueScope, key: string, version: number): string {
  try {
    return decryptValue(project.key, envelope, { organizationId: project.organizationId, projectId: project.projectId, scope, key, version }, project.keyVersion);
  } catch (error) {
    return asCliError(error);
  }
}

/** The scope a value is bound to, from where it lives. */
export function valueScope(level: string, ids: { environmentId?: string | null; serviceId?: string | null; memberId?: string | null }): ValueScope {
  const need = (id: string | null | undefined) => {
    if (!id) throw new CliError(`The server's answer lacks the id of the ${level} a value lives in`, EXIT.failure);
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
      throw new CliError(`A client-managed value cannot live at ${level} scope`, EXIT.failure);
  }
}

/**
 * A client-managed resolution, decrypted and with `${KEY}` references expanded here, by the
 * server's own rules and errors (resolve.ts), since only this side can read the values.
 */
export function decryptResolution(resolution: ClientResolution, project: OpenedProject): Resolution {
  const { binding } = resolution;
  if (binding.project_id !== project.projectId || binding.organization_id !== project.organizationId) {
    throw new CliError('The resolution names another project than the key it was read with', EXIT.rejected);
  }
  const ids = { environmentId: binding.environment_id, serviceId: binding.service_id, memberId: binding.member_id };
  const winners = new Map<string, { variable: ResolvedVariable }>();
  for (const { encryption, version, ...variable } of resolution.variables) {
    const value = encryption === 'client' ? decryptFor(project, variable.value, valueScope(variable.scope, ids), variable.key, version!) : variable.value;
    winners.set(variable.key, { variable: { ...variable, value } });
  }
  const omitted = new Set(resolution.omitted);
  let expanded: Map<string, ResolvedVariable>;
  try {
    expanded = expandReferences(winners, omitted);
  } catch (error) {
    return asCliError(error);
  }
  const variables = [...expanded.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  // pg_service entries reaching a client-managed project are server-managed (organization scope), in clear.
  const pgServices = resolution.pg_services.map(({ encryption: _server, ...entry }) => entry);
  return { variables, pg_services: pgServices, omitted: [...omitted].sort() };
}

/** Where `vars` commands act, when it is in a client-managed project: the opened project and how values there are bound. */
export interface ClientScope {
  project: OpenedProject;
  scopeOf(assignee: string | null): ValueScope;
}

/** The client scope of `project[/env[/service]]`, or null for the organization or a server-managed project. */
export async function clientScope(api: ApiClient, org: string, path: string | undefined, passphraseFile?: string): Promise<ClientScope | null> {
  if (!path) return null;
  const [project, env, service] = path.split('/').filter(Boolean);
  if (!project || (await encryptionOf(api, org, project)) !== 'client') return null;
  const opened = await openProject(api, org, project, passphraseFile);
  const base = projectPath(org, project);
  const idOf = async (url: string) => ((await api.request('GET', url)).json() as { id: string }).id;
  const environmentId = env ? await idOf(`${base}/environments/${encodeURIComponent(env)}`) : null;
  const serviceId = env && service ? await idOf(`${base}/environments/${encodeURIComponent(env)}/services/${encodeURIComponent(service)}`) : null;
  const level = serviceId ? 'service' : environmentId ? 'environment' : 'project';
  return { project: opened, scopeOf: (assignee) => valueScope(assignee ? 'member' : level, { environmentId, serviceId, memberId: assignee }) };
}
