import type { Command } from 'commander';
import { inOrganization, orgCommand } from '../org-command.js';
import { printJson, table } from '../output.js';

type SyncItem = { user: { email: string }; outcome: string; before: { role: string } | null; after: { role: string } | null; reason?: string };

/** Single sign-on chores that an admin runs by hand. */
export function ssoCommands(program: Command) {
  const sso = program
    .command('sso')
    .description('Single sign-on of the organization (providers, domains and role mappings: the API or the console)')
    .addHelpText('after', '\nExamples:\n  coffer sso sync\n  coffer sso sync --org acme --json');

  orgCommand(
    sso,
    'sync',
    "Re-evaluate every SSO member's groups now at the identity provider: roles follow the groups, members in no mapped group or removed at the IdP lose membership (never the OWNER)",
    ['coffer sso sync', 'coffer sso sync --org acme --json'],
  )
    .option('--json', "print the API's JSON")
    .action(
      inOrganization(async ({ api, org }, options: { json?: boolean }) => {
        const result = (await api.request('POST', `/orgs/${encodeURIComponent(org)}/sso/sync`)).json() as { items: SyncItem[]; changed: number };
        if (options.json) return printJson(result);
        const rows = result.items.map((item) => ({ email: item.user.email, outcome: item.outcome, before: item.before?.role ?? '', after: item.after?.role ?? '', reason: item.reason ?? '' }));
        process.stdout.write(table(rows, ['email', 'outcome', 'before', 'after', 'reason']));
        process.stderr.write(`${result.changed} member${result.changed === 1 ? '' : 's'} changed\n`);
      }),
    );
}
