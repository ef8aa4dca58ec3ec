import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { CliError, EXIT } from '../api-client.js';
import { apiFromEnvironment, organizationOf, placePath } from '../context.js';
import { findCluster, findMember, findToken } from '../lookup.js';
import { printJson } from '../output.js';
import { ORG_OPTION } from '../org-command.js';

/** Pages of the console (web/src/main.tsx): the organization's members and audit log; variables of any place. */
export const CONSOLE_PAGES = ['variables', 'members', 'audit'] as const;

/**
 * The console's address of a place: it mirrors the API's paths under the server's root
 * (`/orgs/acme/projects/shop/environments/production`); a service is shown by its variables.
 */
export function consoleUrl(base: string, org: string, place?: string, page?: string): string {
  const at = place ? placePath(org, place) : undefined;
  const root = `${base.replace(/\/+$/, '')}${at ? at.path : `/orgs/${encodeURIComponent(org)}`}`;
  if (page === 'variables' || at?.parts.length === 3) return `${root}/variables`;
  return page ? `${root}/${page}` : root;
}

/** The program that opens a URL in a browser here, or undefined (a server, a container, an SSH session). */
export function browserOpener(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | undefined {
  if (env.BROWSER) return env.BROWSER;
  if (platform === 'darwin') return 'open';
  if (platform === 'win32') return undefined;
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined;
  const found = (env.PATH ?? '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, 'xdg-open')));
  return found ? 'xdg-open' : undefined;
}

export function inspectCommands(program: Command) {
  program
    .command('why')
    .argument('<action>', 'an action of the catalogue, e.g. secret:decrypt (coffer roles explain lists them)')
    .argument('[place]', 'project, project/env or project/env/service; cluster:NAME; omit for the organization')
    .option('--member <email-or-id>', 'ask about this member (needs authz:check) instead of yourself')
    .option('--token <name-or-id>', 'ask about this API token instead of yourself')
    .option(...ORG_OPTION)
    .option('--json', 'print the API answer as JSON')
    .description('May someone do ACTION on PLACE, and which grant decides it (exit 0 allowed, 4 denied)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  coffer why secret:decrypt shop/production',
        '  coffer why secret:write shop/development --member bob@example.com',
        '  coffer why secret:decrypt shop/production/backend --token deploy-bot',
        '  coffer why cluster:deploy cluster:eu-west --member bob@example.com',
        '  coffer why member:manage            # on the organization',
      ].join('\n'),
    )
    .action(async (action: string, place: string | undefined, options: { member?: string; token?: string; org?: string; json?: boolean }) => {
      if (options.member && options.token) throw new CliError('Give --member or --token, not both', EXIT.usage);
      const api = apiFromEnvironment();
      const org = await organizationOf(api, options.org);
      let principal: { user_id: string } | { token_id: string } | undefined;
      let who = 'you';
      if (options.member) {
        const member = await findMember(api, org, options.member);
        principal = { user_id: member.id };
        who = String(member.email);
      } else if (options.token) {
        const token = await findToken(api, org, options.token);
        principal = { token_id: token.id };
        who = `token ${String(token.name)}`;
      }
      let resource = place?.replace(/^\/+|\/+$/g, '') || undefined;
      if (resource?.startsWith('cluster:')) resource = `cluster:${(await findCluster(api, org, resource.slice('cluster:'.length))).id}`;
      const decision = (
        await api.request('POST', `/orgs/${encodeURIComponent(org)}/authz/check`, {
          ...(principal ? { principal } : {}),
          action,
          ...(resource ? { resource } : {}),
        })
      ).json() as { allowed: boolean; reason: string };
      if (options.json) printJson(decision);
      else process.stdout.write(`${decision.allowed ? 'ALLOWED' : 'DENIED'}: ${who} ${decision.allowed ? 'may' : 'may not'} ${action} on ${place ?? `organization ${org}`}: ${decision.reason}\n`);
      if (!decision.allowed) process.exitCode = EXIT.forbidden;
    });

  program
    .command('open')
    .argument('[page]', `an organization page instead of a place: ${CONSOLE_PAGES.join(', ')}`)
    .option('-p, --path <project[/env[/service]]>', 'the place to show (default: the organization)')
    .option(...ORG_OPTION)
    .description('Print the console URL of a place, and open it in a browser when there is one and stdout is a terminal')
    .addHelpText(
      'after',
      [
        '',
        'Prints the URL on stdout. It opens it with $BROWSER, open (macOS) or xdg-open (a desktop session) only when stdout is a terminal.',
        '',
        'Examples:',
        '  coffer open --path shop/production',
        '  coffer open variables --path shop/production',
        '  coffer open members',
        '  ssh server coffer open --path shop      # prints the URL only',
      ].join('\n'),
    )
    .action(async (page: string | undefined, options: { path?: string; org?: string }) => {
      if (page !== undefined && !(CONSOLE_PAGES as readonly string[]).includes(page)) {
        throw new CliError(`"${page}" is not a console page: use ${CONSOLE_PAGES.join(', ')}, or --path for a place`, EXIT.usage);
      }
      if (page && page !== 'variables' && options.path) throw new CliError(`The ${page} page belongs to the organization: drop --path`, EXIT.usage);
      const api = apiFromEnvironment();
      const org = await organizationOf(api, options.org);
      // Checked first, so a typo says what is missing rather than opening a page that is not there.
      if (options.path) {
        await api.request('GET', placePath(org, options.path).path).catch((error: unknown) => {
          if (error instanceof CliError && error.exitCode === EXIT.notFound) {
            throw new CliError(`"${options.path}" not found in organization "${org}" (or you may not see it)`, EXIT.notFound);
          }
          throw error;
        });
      }
      const target = consoleUrl(api.url, org, options.path, page);
      process.stdout.write(`${target}\n`);
      const opener = process.stdout.isTTY ? browserOpener(process.env, process.platform) : undefined;
      if (!opener) return;
      const child = spawn(opener, [target], { detached: true, stdio: 'ignore' });
      child.on('error', () => process.stderr.write(`coffer: could not start ${opener}; open the URL above yourself\n`));
      child.unref();
    });
}
