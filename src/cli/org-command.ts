import type { Command } from 'commander';
import type { ApiClient } from './api-client.js';
import { apiFromEnvironment, organizationOf } from './context.js';

/** The one `--org` option: every command that acts in an organization describes it alike. */
export const ORG_OPTION = ['--org <slug>', 'the organization (default: COFFER_ORG, or your only one)'] as const;

/** Where an organization's command acts: the API as the current principal, and the organization's slug. */
export interface OrgPlace {
  api: ApiClient;
  org: string;
}

/**
 * A subcommand that acts in one organization: its description, the `--org` option and its
 * examples, declared the same way everywhere. Arguments and further options chain on the result.
 */
export function orgCommand(parent: Command, name: string, description: string, examples: string[], before = ''): Command {
  return parent
    .command(name)
    .description(description)
    .option(...ORG_OPTION)
    .addHelpText('after', `\n${before ? `${before}\n\n` : ''}Examples:\n${examples.map((line) => `  ${line}`).join('\n')}`);
}

/**
 * The action of an organization's command: resolves the API client and the organization (from
 * --org, COFFER_ORG or the principal's only one) before the command's own code runs. Commander
 * passes the command's arguments, then its options, then the command itself.
 */
export function inOrganization<A extends unknown[]>(run: (place: OrgPlace, ...args: A) => Promise<void>) {
  return async (...args: A) => {
    const options = args[args.length - 2] as { org?: string };
    const api = apiFromEnvironment();
    await run({ api, org: await organizationOf(api, options.org) }, ...args);
  };
}
