import type { Command } from 'commander';
import { CliError, EXIT } from '../api-client.js';
import { apiFromEnvironment, onPlace, organizationOf, placePath } from '../context.js';
import { FORMATS, type Format } from '../../modules/variables/formats.js';
import { writePrivateFile } from '../output.js';
import { ORG_OPTION } from '../org-command.js';
import { PASSPHRASE_OPTION, asCliError, decryptResolution, encryptionOf, openProject } from '../client-project.js';
import type { ClientResolution } from '../../modules/variables/client-resolution.js';

export function exportCommand(program: Command) {
  program
    .command('export')
    .description('Print (or write) the resolved variables of an environment or service in a file format')
    .requiredOption('-p, --path <project/env[/service]>', 'where to resolve')
    .option(...ORG_OPTION)
    .option('--format <format>', `one of ${FORMATS.join(', ')}`, 'dotenv')
    .option('--member <user_id>', 'resolve on behalf of a member (needs authz:check)')
    .option('-o, --output <file>', 'write to FILE (mode 0600) instead of stdout')
    .option(...PASSPHRASE_OPTION)
    .option('--watch', 'with -o: keep running and rewrite FILE atomically (temp + rename) on every change')
    .addHelpText('after', '\nExamples:\n  coffer export --path shop/production --format dotenv -o .env\n  coffer export --path shop/production --format docker -o app.env && docker run --env-file app.env …\n  coffer export --path gis/production --format pg_service -o ~/.pg_service.conf\n  coffer export --watch --path shop/production --format dotenv -o /run/app/.env')
    .action(async (options: { path: string; org?: string; format: string; member?: string; output?: string; passphraseFile?: string; watch?: boolean }) => {
      if (options.watch && !options.output) throw new CliError('--watch needs -o FILE: the file it keeps up to date', EXIT.usage);
      if (!(FORMATS as readonly string[]).includes(options.format)) {
        throw new CliError(`--format must be one of ${FORMATS.join(', ')} (got "${options.format}")`, EXIT.usage);
      }
      const api = apiFromEnvironment();
      const org = await organizationOf(api, options.org);
      const { path, parts } = placePath(org, options.path);
      if (parts.length < 2) throw new CliError('--path must name an environment (project/env) or a service (project/env/service)', EXIT.usage);
      const client = (await encryptionOf(api, org, parts[0]!).catch(onPlace(`${org}/${parts[0]}`))) === 'client';
      // A client-managed project resolves as ciphertext: decrypted and rendered here, in the same formats.
      const query = new URLSearchParams({ format: client ? 'json' : options.format, ...(options.member ? { member: options.member } : {}) });
      let { text } = await api.request('GET', `${path}/resolve?${query}`).catch(onPlace(`${org}/${options.path}`));
      if (client && options.watch) {
        throw new CliError(`--watch is not available for client-managed project ${parts[0]} yet: run coffer export again after a change`, EXIT.usage);
      }
      if (options.watch) {
        const { watchExport } = await import('../export-watch.js');
        return watchExport(api, path, `${path}/resolve?${query}`, options.output!, text);
      }
      if (client) {
        const resolution = decryptResolution(JSON.parse(text) as ClientResolution, await openProject(api, org, parts[0]!, options.passphraseFile));
        const { render } = await import('../../modules/variables/formats.js');
        try {
          text = render(resolution, options.format as Format).body;
        } catch (error) {
          asCliError(error);
        }
      }
      if (options.output) {
        writePrivateFile(options.output, text);
        process.stderr.write(`Wrote ${options.output}\n`);
      } else {
        process.stdout.write(text);
      }
    });
}
