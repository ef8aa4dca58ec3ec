import type { Command } from 'commander';
import { CliError, EXIT } from '../api-client.js';
import { apiFromEnvironment, organizationOf } from '../context.js';
import { findCluster } from '../lookup.js';
import { printJson } from '../output.js';
import { listing } from './resources.js';

const ORG_OPTION = ['--org <slug>', 'the organization (default: COFFER_ORG, or your only one)'] as const;

/** Clusters (SPEC §1): where environments run; custom roles grant VIEWER, ENV_CREATOR or ADMIN on each. */
export function clusterCommands(program: Command) {
  const clusters = program
    .command('clusters')
    .description('Clusters of an organization (where environments run)')
    .addHelpText('after', '\nExamples:\n  coffer clusters ls\n  coffer clusters create eu-west --region eu-west-1\n  coffer clusters edit eu-west --region eu-west-3\n  coffer clusters rm eu-west');
  listing(clusters, 'List the clusters you may see', ['name', 'region', 'id'], (org) => `/orgs/${org}/clusters`, 'coffer clusters ls');
  clusters
    .command('create')
    .argument('<name>')
    .option('--region <region>', 'where it is, as free text')
    .option(...ORG_OPTION)
    .option('--json', 'print JSON')
    .description('Register a cluster (needs cluster:manage)')
    .addHelpText('after', '\nThen: coffer envs create dev --project shop --type DEVELOPMENT --cluster <name>\n\nExamples:\n  coffer clusters create eu-west --region eu-west-1')
    .action(async (name: string, options: { region?: string; org?: string; json?: boolean }) => {
      const api = apiFromEnvironment();
      const org = await organizationOf(api, options.org);
      const created = (await api.request('POST', `/orgs/${encodeURIComponent(org)}/clusters`, { name, ...(options.region ? { region: options.region } : {}) })).json() as { id: string };
      if (options.json) return printJson(created);
      process.stderr.write(`Created cluster ${name} (${created.id}) in ${org}\n`);
    });
  clusters
    .command('edit')
    .argument('<name-or-id>')
    .option('--name <name>', 'rename it')
    .option('--region <region>', 'change its region ("" clears it)')
    .option(...ORG_OPTION)
    .description('Rename a cluster or change its region (needs cluster:write on it)')
    .addHelpText('after', '\nExamples:\n  coffer clusters edit eu-west --name eu-west-prod\n  coffer clusters edit eu-west --region eu-west-3')
    .action(async (ref: string, options: { name?: string; region?: string; org?: string }) => {
      if (options.name === undefined && options.region === undefined) throw new CliError('Give --name or --region (or both)', EXIT.usage);
      const api = apiFromEnvironment();
      const org = await organizationOf(api, options.org);
      const cluster = await findCluster(api, org, ref);
      const body = { ...(options.name !== undefined ? { name: options.name } : {}), ...(options.region !== undefined ? { region: options.region || null } : {}) };
      const saved = (await api.request('PATCH', `/orgs/${encodeURIComponent(org)}/clusters/${cluster.id}`, body)).json() as { name: string; region: string | null };
      process.stderr.write(`Cluster ${saved.name} of ${org}: region ${saved.region ?? '(none)'}\n`);
    });
  clusters
    .command('rm')
    .argument('<name-or-id>')
    .option(...ORG_OPTION)
    .description('Delete a cluster that hosts no environment')
    .addHelpText('after', '\nExamples:\n  coffer clusters rm eu-west')
    .action(async (ref: string, options: { org?: string }) => {
      const api = apiFromEnvironment();
      const org = await organizationOf(api, options.org);
      const cluster = await findCluster(api, org, ref);
      await api.request('DELETE', `/orgs/${encodeURIComponent(org)}/clusters/${cluster.id}`);
      process.stderr.write(`Deleted cluster ${String(cluster.name)} of ${org}\n`);
    });
}
