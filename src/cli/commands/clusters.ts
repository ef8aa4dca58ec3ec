import type { Command } from 'commander';
import { CliError, EXIT } from '../api-client.js';
import { findCluster } from '../lookup.js';
import { inOrganization, orgCommand } from '../org-command.js';
import { printJson } from '../output.js';
import { listing } from './resources.js';

/** Clusters (SPEC §1): where environments run; custom roles grant VIEWER, ENV_CREATOR or ADMIN on each. */
export function clusterCommands(program: Command) {
  const clusters = program
    .command('clusters')
    .description('Clusters of an organization (where environments run)')
    .addHelpText('after', '\nExamples:\n  coffer clusters ls\n  coffer clusters create eu-west --region eu-west-1\n  coffer clusters edit eu-west --region eu-west-3\n  coffer clusters rm eu-west');
  listing(clusters, 'List the clusters you may see', ['name', 'region', 'id'], (org) => `/orgs/${org}/clusters`, 'coffer clusters ls');
  orgCommand(clusters, 'create', 'Register a cluster (needs cluster:manage)', ['coffer clusters create eu-west --region eu-west-1'], 'Then: coffer envs create dev --project shop --type DEVELOPMENT --cluster <name>')
    .argument('<name>')
    .option('--region <region>', 'where it is, as free text')
    .option('--json', 'print JSON')
    .action(inOrganization(async ({ api, org }, name: string, options: { region?: string; json?: boolean }) => {
      const created = (await api.request('POST', `/orgs/${encodeURIComponent(org)}/clusters`, { name, ...(options.region ? { region: options.region } : {}) })).json() as { id: string };
      if (options.json) return printJson(created);
      process.stderr.write(`Created cluster ${name} (${created.id}) in ${org}\n`);
    }));
  orgCommand(clusters, 'edit', 'Rename a cluster or change its region (needs cluster:write on it)', ['coffer clusters edit eu-west --name eu-west-prod', 'coffer clusters edit eu-west --region eu-west-3'])
    .argument('<name-or-id>')
    .option('--name <name>', 'rename it')
    .option('--region <region>', 'change its region ("" clears it)')
    .hook('preAction', (command) => {
      const options = command.opts<{ name?: string; region?: string }>();
      if (options.name === undefined && options.region === undefined) throw new CliError('Give --name or --region (or both)', EXIT.usage);
    })
    .action(inOrganization(async ({ api, org }, ref: string, options: { name?: string; region?: string }) => {
      const cluster = await findCluster(api, org, ref);
      const body = { ...(options.name !== undefined ? { name: options.name } : {}), ...(options.region !== undefined ? { region: options.region || null } : {}) };
      const saved = (await api.request('PATCH', `/orgs/${encodeURIComponent(org)}/clusters/${cluster.id}`, body)).json() as { name: string; region: string | null };
      process.stderr.write(`Cluster ${saved.name} of ${org}: region ${saved.region ?? '(none)'}\n`);
    }));
  orgCommand(clusters, 'rm', 'Delete a cluster that hosts no environment', ['coffer clusters rm eu-west'])
    .argument('<name-or-id>')
    .action(inOrganization(async ({ api, org }, ref: string) => {
      const cluster = await findCluster(api, org, ref);
      await api.request('DELETE', `/orgs/${encodeURIComponent(org)}/clusters/${cluster.id}`);
      process.stderr.write(`Deleted cluster ${String(cluster.name)} of ${org}\n`);
    }));
}
