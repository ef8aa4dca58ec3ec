import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { WrappedProjectKey } from '../../kernel/crypto/client-envelope.js';
import { createProjectKey, wrapProjectKey } from '../client-keys.js';
import { CliError, EXIT, type ApiClient } from '../api-client.js';
import { PASSPHRASE_OPTION, asCliError, encryptFor, decryptFor, openProject, readPassphrase, valueScope } from '../client-project.js';
import { inOrganization, orgCommand } from '../org-command.js';

/**
 * A new project's id, chosen here, and its key wrapped under a passphrase asked for twice (or from
 * COFFER_PASSPHRASE / --passphrase-file), bound to the organization and that id from the first wrap.
 */
export async function newClientKey(api: ApiClient, org: string, passphraseFile: string | undefined): Promise<{ id: string; wrapped: WrappedProjectKey }> {
  const organizationId = ((await api.request('GET', `/orgs/${encodeURIComponent(org)}`)).json() as { id: string }).id;
  const passphrase = await readPassphrase({ file: passphraseFile, confirm: true });
  const id = randomUUID();
  return { id, wrapped: (await createProjectKey(passphrase, { organizationId, projectId: id }).catch(asCliError)).wrapped };
}

interface KeyValue {
  variable_id: string;
  type?: string;
  key: string;
  scope: string;
  environment_id: string | null;
  service_id: string | null;
  assignee_user_id: string | null;
  version: number;
  value: string;
}

const scopeOfItem = (item: KeyValue) =>
  valueScope(item.assignee_user_id ? 'member' : item.scope, { environmentId: item.environment_id, serviceId: item.service_id, memberId: item.assignee_user_id });

interface ConversionValues {
  organization_id: string;
  project_id: string;
  encryption: 'client' | 'server';
  key_version: number | null;
  items: KeyValue[];
}

interface Converted {
  reencrypted: number;
  purged_versions: number;
  purged_deleted_variables: number;
}

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

/**
 * `coffer projects encryption SLUG --to client|server`: reads every live value, rewrites each
 * under the other model here, and sends them all in one request the server applies atomically.
 */
async function convertProject(api: ApiClient, org: string, slug: string, to: 'client' | 'server', passphraseFile: string | undefined) {
  const base = `/orgs/${encodeURIComponent(org)}/projects/${encodeURIComponent(slug)}/encryption`;
  const say = (line: string) => process.stderr.write(`${line}
`);
  let body: Record<string, unknown>;
  let count: number;
  if (to === 'client') {
    const read = (await api.request('GET', `${base}/values`)).json() as ConversionValues;
    if (read.encryption === 'client') throw new CliError(`Project ${slug} is already client-managed`, EXIT.usage);
    const services = read.items.filter((item) => item.type === 'pg_service');
    if (services.length > 0) {
      throw new CliError(`Project ${slug} holds pg_service entries (${services.map((item) => item.key).join(', ')}), which a client-managed project cannot hold: delete them or define them at organization scope first`, EXIT.usage);
    }
    say(`Read ${plural(read.items.length, 'value')} of ${slug} in clear`);
    const passphrase = await readPassphrase({ file: passphraseFile, confirm: true, what: 'New passphrase' });
    say('Deriving a key from the passphrase (Argon2id) and generating the project key');
    const context = { organizationId: read.organization_id, projectId: read.project_id };
    const { key, wrapped } = await createProjectKey(passphrase, context).catch(asCliError);
    const project = { ...context, key, keyVersion: 1, material: wrapped };
    say(`Encrypting ${plural(read.items.length, 'value')} under the new project key`);
    const values = read.items.map((item) => ({ variable_id: item.variable_id, version: item.version + 1, value: encryptFor(project, item.value, scopeOfItem(item), item.key, item.version + 1) }));
    body = { to, key: wrapped, values };
    count = values.length;
  } else {
    const project = await openProject(api, org, slug, passphraseFile);
    const read = (await api.request('GET', `${base}/values`)).json() as ConversionValues;
    say(`Decrypting ${plural(read.items.length, 'value')} of ${slug} with the project key`);
    const values = read.items.map((item) => ({ variable_id: item.variable_id, version: item.version + 1, value: decryptFor(project, item.value, scopeOfItem(item), item.key, item.version) }));
    body = { to, current_key_version: project.keyVersion, values };
    count = values.length;
  }
  say(`Sending ${plural(count, 'value')} in one request`);
  const done = (await api.request('POST', base, body)).json() as Converted;
  const purged = `purged ${plural(done.purged_versions, 'older version')} and ${plural(done.purged_deleted_variables, 'deleted variable')}`;
  say(
    to === 'client'
      ? `Converted ${slug} to client-managed keys: re-encrypted ${plural(done.reencrypted, 'value')}; ${purged} (purged, not re-encrypted: no version the server could read is left). Keep the passphrase safe: Coffer cannot recover it`
      : `Converted ${slug} to server-managed keys: ${plural(done.reencrypted, 'value')} now sealed by the server; ${purged} (client ciphertext the server cannot read). The project key is discarded`,
  );
}

/** `coffer projects passphrase`, `rotate-key` and `encryption` (issue #13). */
export function clientKeyCommands(projects: Command) {
  orgCommand(projects, 'passphrase', 'Change the passphrase of a client-managed project (the key stays; it is wrapped anew)', [
    'COFFER_PASSPHRASE=old COFFER_NEW_PASSPHRASE=new coffer projects passphrase vault',
  ], 'The current passphrase comes from COFFER_PASSPHRASE, --passphrase-file or a prompt; the new one from COFFER_NEW_PASSPHRASE, --new-passphrase-file or a prompt (twice).')
    .argument('<slug>')
    .option(...PASSPHRASE_OPTION)
    .option('--new-passphrase-file <file>', 'read the new passphrase from FILE (else COFFER_NEW_PASSPHRASE, else a prompt)')
    .action(inOrganization(async ({ api, org }, slug: string, options: { passphraseFile?: string; newPassphraseFile?: string }) => {
      const project = await openProject(api, org, slug, options.passphraseFile);
      const next = await readPassphrase({ file: options.newPassphraseFile, variable: 'COFFER_NEW_PASSPHRASE', what: 'New passphrase', confirm: true });
      const wrapped = await wrapProjectKey(project.key, next, project, project.keyVersion, project.material.kdf).catch(asCliError);
      await api.request('PUT', `/orgs/${encodeURIComponent(org)}/projects/${encodeURIComponent(slug)}/key`, { current_wrapped_key: project.material.wrapped_key, key: wrapped });
      process.stderr.write(`Changed the passphrase of ${slug} (key version ${project.keyVersion} re-wrapped)\n`);
    }));

  orgCommand(projects, 'rotate-key', 'Replace the key of a client-managed project, re-encrypting every live value here, in one atomic request', [
    'COFFER_PASSPHRASE=… coffer projects rotate-key vault',
  ], 'History written before a rotation stays encrypted under the old key, which is discarded: it can no longer be read.')
    .argument('<slug>')
    .option(...PASSPHRASE_OPTION)
    .action(inOrganization(async ({ api, org }, slug: string, options: { passphraseFile?: string }) => {
      const base = `/orgs/${encodeURIComponent(org)}/projects/${encodeURIComponent(slug)}/key`;
      const project = await openProject(api, org, slug, options.passphraseFile);
      const { items } = (await api.request('GET', `${base}/values`)).json() as { key_version: number; items: KeyValue[] };
      const passphrase = await readPassphrase({ file: options.passphraseFile });
      const keyVersion = project.keyVersion + 1;
      const { key, wrapped } = await createProjectKey(passphrase, project, keyVersion, project.material.kdf).catch(asCliError);
      const next = { ...project, key, keyVersion };
      const values = items.map((item) => {
        const scope = scopeOfItem(item);
        const plaintext = decryptFor(project, item.value, scope, item.key, item.version);
        return { variable_id: item.variable_id, version: item.version + 1, value: encryptFor(next, plaintext, scope, item.key, item.version + 1) };
      });
      await api.request('POST', `${base}/rotate`, { current_key_version: project.keyVersion, key: wrapped, values });
      process.stderr.write(`Rotated the key of ${slug} to version ${keyVersion}; re-encrypted ${values.length} values\n`);
    }));

  orgCommand(projects, 'encryption', 'Convert a project between server- and client-managed keys, in one atomic, audited request', [
    'COFFER_PASSPHRASE=… coffer projects encryption shop --to client',
    'COFFER_PASSPHRASE=… coffer projects encryption vault --to server',
  ], 'Every live value is rewritten as a new version under the other model; older versions and deleted variables are purged (never re-encrypted), so no value readable under the old model is left in history. --to client sets a new passphrase (prompt twice, COFFER_PASSPHRASE or --passphrase-file) and needs project:write and secret:decrypt everywhere in the project; --to server needs the current passphrase and key:retrieve.')
    .argument('<slug>')
    .requiredOption('--to <model>', 'client or server')
    .option(...PASSPHRASE_OPTION)
    .action(inOrganization(async ({ api, org }, slug: string, options: { to: string; passphraseFile?: string }) => {
      if (options.to !== 'client' && options.to !== 'server') throw new CliError(`--to must be client or server (got "${options.to}")`, EXIT.usage);
      await convertProject(api, org, slug, options.to, options.passphraseFile);
    }));
}
