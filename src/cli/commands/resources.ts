import type { Command } from 'commander';
import { CliError, EXIT, type ApiClient } from '../api-client.js';
import { apiFromEnvironment, organizationOf } from '../context.js';
import { printJson, table } from '../output.js';

/** Every item of a paged list (routes answering `next_cursor`); `paged: false` lists come whole and take no `limit`. */
async function pages(api: ApiClient, path: string, paged = true): Promise<Record<string, unknown>[]> {
  if (!paged) return ((await api.request('GET', path)).json() as { items: Record<string, unknown>[] }).items;
  const items: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const page = (await api.request('GET', `${path}${separator}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json() as {
      items: Record<string, unknown>[];
      next_cursor: string | null;
    };
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

function listing(
  parent: Command,
  description: string,
  columns: string[],
  pathOf: (org: string, options: Record<string, string>) => string,
  example: string,
  paged = true,
) {
  return parent
    .command('ls')
    .description(description)
    .option('--org <slug>', 'the organization (default: COFFER_ORG, or your only one)')
    .option('--json', 'print JSON')
    .addHelpText('after', `\nExamples:\n  ${example}`)
    .action(async (options: Record<string, string> & { json?: boolean }) => {
      const api = apiFromEnvironment();
      const org = encodeURIComponent(await organizationOf(api, options.org));
      const items = await pages(api, pathOf(org, options), paged);
      if (options.json) printJson(items);
      else process.stdout.write(table(items, columns));
    });
}

const need = (value: string | undefined, flag: string) => {
  if (!value) throw new CliError(`${flag} is required`, EXIT.usage);
  return encodeURIComponent(value);
};

export function resourceCommands(program: Command) {
  const orgs = program.command('orgs').description('Organizations you belong to').addHelpText('after', '\nExamples:\n  coffer orgs ls\n  coffer orgs create acme');
  orgs
    .command('ls')
    .description('List your organizations')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  coffer orgs ls')
    .action(async (options: { json?: boolean }) => {
      const items = await pages(apiFromEnvironment(), '/orgs');
      if (options.json) printJson(items);
      else process.stdout.write(table(items, ['slug', 'name', 'role']));
    });
  orgs
    .command('create')
    .argument('<slug>')
    .option('--name <name>')
    .description('Create an organization (you become its OWNER)')
    .addHelpText('after', '\nExamples:\n  coffer orgs create acme --name "Acme Inc."')
    .action(async (slug: string, options: { name?: string }) => {
      await apiFromEnvironment().request('POST', '/orgs', { slug, ...(options.name ? { name: options.name } : {}) });
      process.stderr.write(`Created organization ${slug}\n`);
    });

  const projects = program.command('projects').description('Projects of an organization').addHelpText('after', '\nExamples:\n  coffer projects ls\n  coffer projects create shop');
  listing(projects, 'List projects', ['slug', 'name', 'description'], (org) => `/orgs/${org}/projects`, 'coffer projects ls --org acme');
  projects
    .command('create')
    .argument('<slug>')
    .option('--org <slug>')
    .description('Create a project')
    .addHelpText('after', '\nExamples:\n  coffer projects create shop')
    .action(async (slug: string, options: { org?: string }) => {
      const api = apiFromEnvironment();
      const org = encodeURIComponent(await organizationOf(api, options.org));
      await api.request('POST', `/orgs/${org}/projects`, { slug });
      process.stderr.write(`Created project ${slug}\n`);
    });

  const envs = program.command('envs').description('Environments of a project').addHelpText('after', '\nExamples:\n  coffer envs ls --project shop\n  coffer envs create staging --project shop --type STAGING');
  listing(envs, 'List the environments of a project', ['slug', 'name', 'type'], (org, o) => `/orgs/${org}/projects/${need(o.project, '--project')}/environments`, 'coffer envs ls --project shop')
    .requiredOption('--project <slug>', 'the project');
  envs
    .command('create')
    .argument('<slug>')
    .requiredOption('--project <slug>', 'the project')
    .requiredOption('--type <type>', 'DEVELOPMENT, PREVIEW, STAGING or PRODUCTION')
    .option('--org <slug>')
    .description('Create an environment')
    .addHelpText('after', '\nExamples:\n  coffer envs create production --project shop --type PRODUCTION')
    .action(async (slug: string, options: { org?: string; project: string; type: string }) => {
      const api = apiFromEnvironment();
      const org = encodeURIComponent(await organizationOf(api, options.org));
      await api.request('POST', `/orgs/${org}/projects/${encodeURIComponent(options.project)}/environments`, { slug, type: options.type });
      process.stderr.write(`Created environment ${options.project}/${slug}\n`);
    });

  const services = program.command('services').description('Services of an environment').addHelpText('after', '\nExamples:\n  coffer services ls --project shop --env production');
  listing(
    services,
    'List the services of an environment',
    ['slug', 'kind', 'outputs'],
    (org, o) => `/orgs/${org}/projects/${need(o.project, '--project')}/environments/${need(o.env, '--env')}/services`,
    'coffer services ls --project shop --env production',
  )
    .requiredOption('--project <slug>', 'the project')
    .requiredOption('--env <slug>', 'the environment');

  const members = program.command('members').description('Members of an organization').addHelpText('after', '\nExamples:\n  coffer members ls');
  listing(members, 'List members and their roles', ['email', 'name', 'role', 'user_id'], (org) => `/orgs/${org}/members`, 'coffer members ls');

  const roles = program.command('roles').description('Roles of an organization').addHelpText('after', '\nExamples:\n  coffer roles ls');
  listing(roles, 'List system and custom roles', ['name', 'id', 'system', 'description'], (org) => `/orgs/${org}/roles`, 'coffer roles ls', false);

  const tokens = program.command('tokens').description('API tokens for programs').addHelpText('after', '\nExamples:\n  coffer tokens create deploy-bot --preset ci --path shop/production\n  coffer tokens ls');
  listing(tokens, 'List API tokens (never the token itself)', ['name', 'id', 'scopes', 'path', 'expires_at', 'last_used_at'], (org) => `/orgs/${org}/tokens`, 'coffer tokens ls', false);
  tokens
    .command('create')
    .argument('<name>')
    .option('--org <slug>')
    .option('--preset <preset>', 'read-only or ci')
    .option('--scopes <scopes>', 'comma-separated actions, resource:* or *')
    .option('--path <project[/env[/service]]>', 'restrict the token to this place')
    .option('--expires-at <time>', 'ISO-8601 expiry')
    .description('Create an API token: printed once, on stdout')
    .addHelpText('after', '\nExamples:\n  coffer tokens create deploy-bot --preset ci --path shop/production\n  coffer tokens create auditor --scopes audit:read')
    .action(async (name: string, options: { org?: string; preset?: string; scopes?: string; path?: string; expiresAt?: string }) => {
      if ((options.preset === undefined) === (options.scopes === undefined)) throw new CliError('Give --preset or --scopes (one of them)', EXIT.usage);
      const api = apiFromEnvironment();
      const org = encodeURIComponent(await organizationOf(api, options.org));
      const created = (
        await api.request('POST', `/orgs/${org}/tokens`, {
          name,
          ...(options.preset ? { preset: options.preset } : { scopes: options.scopes!.split(',').map((s) => s.trim()) }),
          ...(options.path ? { path: options.path } : {}),
          ...(options.expiresAt ? { expires_at: options.expiresAt } : {}),
        })
      ).json() as { token: string };
      process.stderr.write(`Created token ${name}. It is shown once; store it now:\n`);
      process.stdout.write(`${created.token}\n`);
    });
  tokens
    .command('revoke')
    .argument('<id>')
    .option('--org <slug>')
    .description('Revoke an API token (effective on the next request, on every instance)')
    .addHelpText('after', '\nExamples:\n  coffer tokens revoke 6f1c…')
    .action(async (id: string, options: { org?: string }) => {
      const api = apiFromEnvironment();
      const org = encodeURIComponent(await organizationOf(api, options.org));
      await api.request('DELETE', `/orgs/${org}/tokens/${encodeURIComponent(id)}`);
      process.stderr.write(`Revoked token ${id}\n`);
    });
}
