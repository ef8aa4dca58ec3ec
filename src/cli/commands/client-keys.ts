import type { Command } from 'commander';
import type { WrappedProjectKey } from '../../kernel/crypto/client-envelope.js';
import { createProjectKey, wrapProjectKey } from '../client-keys.js';
import { PASSPHRASE_OPTION, asCliError, encryptFor, decryptFor, openProject, readPassphrase, valueScope } from '../client-project.js';
import { inOrganization, orgCommand } from '../org-command.js';

/** A new project key, wrapped under a passphrase asked for twice (or from COFFER_PASSPHRASE / --passphrase-file). */
export async function newClientKey(passphraseFile: string | undefined): Promise<WrappedProjectKey> {
  const passphrase = await readPassphrase({ file: passphraseFile, confirm: true });
  return (await createProjectKey(passphrase, null).catch(asCliError)).wrapped;
}

interface KeyValue {
  variable_id: string;
  key: string;
  scope: string;
  environment_id: string | null;
  service_id: string | null;
  assignee_user_id: string | null;
  version: number;
  value: string;
}

/** `coffer projects passphrase` and `coffer projects rotate-key` (issue #13). */
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
        const level = item.assignee_user_id ? 'member' : item.scope;
        const scope = valueScope(level, { environmentId: item.environment_id, serviceId: item.service_id, memberId: item.assignee_user_id });
        const plaintext = decryptFor(project, item.value, scope, item.key, item.version);
        return { variable_id: item.variable_id, version: item.version + 1, value: encryptFor(next, plaintext, scope, item.key, item.version + 1) };
      });
      await api.request('POST', `${base}/rotate`, { current_key_version: project.keyVersion, key: wrapped, values });
      process.stderr.write(`Rotated the key of ${slug} to version ${keyVersion}; re-encrypted ${values.length} values\n`);
    }));
}
