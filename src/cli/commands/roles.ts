import type { Command } from 'commander';
import { CliError, EXIT } from '../api-client.js';
import { apiFromEnvironment, organizationOf } from '../context.js';
import { findRole } from '../lookup.js';
import { printJson } from '../output.js';
import { readRoleFile, resolveRoleReferences } from '../role-file.js';
import { explainLevels, systemRoleText } from './roles-explain.js';
import { listing } from './resources.js';
import { ORG_OPTION, inOrganization, orgCommand } from '../org-command.js';

interface RoleView {
  id: string;
  name: string;
  description: string;
  system: boolean;
  cluster_permissions?: { cluster_name?: string; cluster_id: string; permission: string }[];
  project_permissions?: { project_name?: string; project_id: string; is_admin?: boolean; permissions?: { environment_type: string; permission: string }[] }[];
  environment_permissions?: { project_name?: string; environment_name?: string; environment_id: string; permissions: string[] }[];
}

/** A role as a person reads it: one line per project, cluster and environment it grants on. */
function describe(role: RoleView): string {
  const lines = [`Role "${role.name}" (${role.system ? 'system' : 'custom'})${role.description ? `: ${role.description}` : ''}`];
  if (role.system) {
    return lines.join('\n') + '\n' + systemRoleText(role.name);
  }
  const projects = role.project_permissions ?? [];
  lines.push(projects.length ? 'Projects (per environment type):' : 'Projects: none');
  for (const p of projects) {
    const levels = p.is_admin ? 'is_admin (ADMIN on every type, and may edit the project)' : (p.permissions ?? []).map((t) => `${t.environment_type}=${t.permission}`).join(' ');
    lines.push(`  ${p.project_name ?? p.project_id}: ${levels}`);
  }
  const environments = role.environment_permissions ?? [];
  if (environments.length) lines.push('Environments (permission sets):');
  for (const e of environments) lines.push(`  ${e.project_name ?? '?'}/${e.environment_name ?? e.environment_id}: ${e.permissions.join(', ')}`);
  const clusters = role.cluster_permissions ?? [];
  if (clusters.length) lines.push('Clusters:');
  for (const c of clusters) lines.push(`  ${c.cluster_name ?? c.cluster_id}: ${c.permission}`);
  return lines.join('\n') + '\n';
}

/** What `roles show --json` prints and `roles edit --file` takes back: the role without its bookkeeping. */
function definitionOf(role: RoleView) {
  const { id: _id, system: _system, ...definition } = role as RoleView & { created_at?: string; updated_at?: string };
  delete definition.created_at;
  delete definition.updated_at;
  return definition;
}

export function roleCommands(program: Command) {
  const roles = program
    .command('roles')
    .description('System and custom roles of an organization')
    .addHelpText(
      'after',
      [
        '',
        'A custom role file is seed 001\'s JSON: {"name", "description", "cluster_permissions", "project_permissions", "environment_permissions"}.',
        'Projects may be given by id, slug or name; environments as "project/environment"; clusters by name.',
        '',
        'Examples:',
        '  coffer roles ls',
        '  coffer roles explain',
        '  coffer roles create --file qa.json',
        '  coffer roles show qa --json > qa.json && $EDITOR qa.json && coffer roles edit qa --file qa.json',
      ].join('\n'),
    );
  listing(roles, 'List system and custom roles', ['name', 'system', 'description', 'id'], (org) => `/orgs/${org}/roles`, 'coffer roles ls', false);

  orgCommand(roles, 'show', 'Show what a role grants', ['coffer roles show "QA testers"', 'coffer roles show qa --json > qa.json'])
    .argument('<name>', 'a role name (system or custom) or a custom role id')
    .option('--json', "print the role's JSON (the shape roles create and edit take)")
    .action(inOrganization(async ({ api, org }, name: string, options: { json?: boolean }) => {
      const found = await findRole(api, org, name);
      const role = (await api.request('GET', `/orgs/${encodeURIComponent(org)}/roles/${encodeURIComponent(found.id)}`)).json() as RoleView;
      if (options.json) return printJson(role.system ? role : definitionOf(role));
      process.stdout.write(describe(role));
    }));

  roles
    .command('create')
    .requiredOption('--file <file>', 'the role JSON (seed 001 shape); - reads stdin')
    .option(...ORG_OPTION)
    .description('Create a custom role from a JSON file')
    .addHelpText(
      'after',
      [
        '',
        'Example file (DEPLOYER in development, nothing elsewhere in project shop):',
        '  {"name": "qa", "description": "QA testers",',
        '   "project_permissions": [{"project_id": "shop", "permissions": [',
        '     {"environment_type": "DEVELOPMENT", "permission": "DEPLOYER"}]}]}',
        '',
        'Examples:',
        '  coffer roles create --file qa.json',
        '  coffer roles create --file - < qa.json',
      ].join('\n'),
    )
    .action(async (options: { file: string; org?: string }) => {
      const role = readRoleFile(options.file);
      const api = apiFromEnvironment();
      const org = await organizationOf(api, options.org);
      const body = await resolveRoleReferences(api, org, role);
      const created = (await api.request('POST', `/orgs/${encodeURIComponent(org)}/roles`, body)).json() as RoleView;
      process.stderr.write(`Created custom role "${created.name}" in ${org}; give it with: coffer members set-role EMAIL "${created.name}"\n`);
    });

  orgCommand(roles, 'edit', "Replace a custom role's definition; its members have the new permissions on their next request", ['coffer roles show qa --json > qa.json && $EDITOR qa.json && coffer roles edit qa --file qa.json'])
    .argument('<name>', 'the custom role to replace')
    .requiredOption('--file <file>', 'its new JSON (seed 001 shape; "name" renames it, missing keeps it); - reads stdin')
    .action(async (name: string, options: { file: string; org?: string }) => {
      const role = readRoleFile(options.file);
      const api = apiFromEnvironment();
      const org = await organizationOf(api, options.org);
      const found = await findRole(api, org, name);
      if (found.system) throw new CliError(`Role "${found.name}" is a system role and cannot be edited; create a custom role instead`, EXIT.rejected);
      const body = await resolveRoleReferences(api, org, { ...role, name: role.name ?? found.name });
      const saved = (await api.request('PUT', `/orgs/${encodeURIComponent(org)}/roles/${found.id}`, body)).json() as RoleView;
      process.stderr.write(`Updated custom role "${saved.name}" in ${org}\n`);
    });

  orgCommand(roles, 'rm', 'Delete a custom role nobody holds', ['coffer roles rm qa'])
    .argument('<name>', 'the custom role to delete (nobody may hold it)')
    .action(inOrganization(async ({ api, org }, name: string) => {
      const found = await findRole(api, org, name);
      if (found.system) throw new CliError(`Role "${found.name}" is a system role and cannot be deleted`, EXIT.rejected);
      await api.request('DELETE', `/orgs/${encodeURIComponent(org)}/roles/${found.id}`);
      process.stderr.write(`Deleted custom role "${found.name}" from ${org}\n`);
    }));

  roles
    .command('explain')
    .argument('[level]', 'one level or set (e.g. DEPLOYER, ENV_CREATOR, FULL_VISIBILITY); all when omitted')
    .option('--json', 'print JSON: every level and set with its actions')
    .description("What each custom role level and permission set grants (from the server's own tables)")
    .addHelpText('after', '\nExamples:\n  coffer roles explain\n  coffer roles explain DEPLOYER\n  coffer roles explain --json')
    .action((level: string | undefined, options: { json?: boolean }) => {
      const explained = explainLevels(level);
      if (options.json) return printJson(explained.json);
      process.stdout.write(explained.text);
    });
}
