import type { Command } from 'commander';
import { CliError, EXIT } from '../api-client.js';
import { apiFromEnvironment, onPlace, organizationOf, placePath } from '../context.js';
import { FORMATS } from '../../modules/variables/formats.js';
import { writePrivateFile } from '../output.js';
import { ORG_OPTION } from '../org-command.js';

export function exportCommand(program: Command) {
  program
    .command('export')
    .description('Print (or write) the resolved variables of an environment or service in a file format')
    .requiredOption('-p, --path <project/env[/service]>', 'where to resolve')
    .option(...ORG_OPTION)
    .option('--format <format>', `one of ${FORMATS.join(', ')}`, 'dotenv')
    .option('--member <user_id>', 'resolve on behalf of a member (needs authz:check)')
    .option('-o, --output <file>', 'write to FILE (mode 0600) instead of stdout')
    .option('--watch', 'with -o: keep running and rewrite FILE atomically (temp + rename) on every change')
    .addHelpText('after', '\nExamples:\n  coffer export --path shop/production --format dotenv -o .env\n  coffer export --path shop/production --format docker -o app.env && docker run --env-file app.env …\n  coffer export --path gis/production --format pg_service -o ~/.pg_service.conf\n  coffer export --watch --path shop/production --format dotenv -o /run/app/.env')
    .action(async (options: { path: string; org?: string; format: string; member?: string; output?: string; watch?: boolean }) => {
      if (options.watch && !options.output) throw new CliError('--watch needs -o FILE: the file it keeps up to date', EXIT.usage);
      if (!(FORMATS as readonly string[]).includes(options.format)) {
        throw new CliError(`--format must be one of ${FORMATS.join(', ')} (got "${options.format}")`, EXIT.usage);
      }
      const api = apiFromEnvironment();
      const org = await organizationOf(api, options.org);
      const { path, parts } = placePath(org, options.path);
      if (parts.length < 2) throw new CliError('--path must name an environment (project/env) or a service (project/env/service)', EXIT.usage);
      const query = new URLSearchParams({ format: options.format, ...(options.member ? { member: options.member } : {}) });
      const { text } = await api.request('GET', `${path}/resolve?${query}`).catch(onPlace(`${org}/${options.path}`));
      if (options.watch) {
        const { watchExport } = await import('../export-watch.js');
        return watchExport(api, path, `${path}/resolve?${query}`, options.output!, text);
      }
      if (options.output) {
        writePrivateFile(options.output, text);
        process.stderr.write(`Wrote ${options.output}\n`);
      } else {
        process.stdout.write(text);
      }
    });
}
