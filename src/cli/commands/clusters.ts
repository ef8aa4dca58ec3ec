import type { Command } from 'commander';
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
    .addHelpText('after', '\nExamples:\n  coffer clusters ls\n  coffer clusters create eu-west --region eu-west-1\n  coffer clusters rm eu-west');
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
