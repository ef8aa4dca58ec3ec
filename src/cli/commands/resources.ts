import type { Command } from 'commander';
import { CliError, EXIT } from '../api-client.js';
import { apiFromEnvironment, organizationOf } from '../context.js';
import { ENVIRONMENT_TYPES, SERVICE_KINDS } from '../../kernel/db/schema.js';
import { findCluster, findToken, pages } from '../lookup.js';
import { printJson, table } from '../output.js';
import { ORG_OPTION, inOrganization, orgCommand } from '../org-command.js';
import { PASSPHRASE_OPTION } from '../client-project.js';
import { clientKeyCommands, newClientKey } from './client-keys.js';

export function listing(
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
    .option(...ORG_OPTION)
    .option('--json', 'print JSON')
    .addHelpText('after', `\nExamples:\n  ${example}`)
    .action(inOrganization(async ({ api, org: slug }, options: Record<string, string> & { json?: boolean }) => {
      const org = encodeURIComponent(slug);
      const items = await pages(api, pathOf(org, options), paged);
      if (options.json) printJson(items);
      else process.stdout.write(table(items, columns));
    }));
}

export const need = (value: string | undefined, flag: string) => {
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
  orgCommand(projects, 'create', 'Create a project', ['coffer projects create shop', 'COFFER_PASSPHRASE=… coffer projects create vault --encryption client'])
    .argument('<slug>')
    .option('--encryption <model>', 'server (default): Coffer holds the keys; client: values are encrypted here under a passphrase the server never sees', 'server')
    .option(...PASSPHRASE_OPTION)
    .action(inOrganization(async ({ api, org: orgSlug }, slug: string, options: { encryption: string; passphraseFile?: string }) => {
      const org = encodeURIComponent(orgSlug);
      if (options.encryption !== 'server' && options.encryption !== 'client') throw new CliError(`--encryption must be server or client (got "${options.encryption}")`, EXIT.usage);
      const clientKey = options.encryption === 'client' ? await newClientKey(api, orgSlug, options.passphraseFile) : undefined;
      await api.request('POST', `/orgs/${org}/projects`, { slug, ...(clientKey ? { encryption: 'client', client_key: clientKey.wrapped, id: clientKey.id } : {}) });
      process.stderr.write(`Created project ${slug}${clientKey ? ' with client-managed keys: keep the passphrase safe, Coffer cannot recover it' : ''}\n`);
    }));
  clientKeyCommands(projects);

  const envs = program.command('envs').description('Environments of a project').addHelpText('after', '\nExamples:\n  coffer envs ls --project shop\n  coffer envs create staging --project shop --type STAGING');
  listing(envs, 'List the environments of a project', ['slug', 'name', 'type'], (org, o) => `/orgs/${org}/projects/${need(o.project, '--project')}/environments`, 'coffer envs ls --project shop')
    .requiredOption('--project <slug>', 'the project');
  orgCommand(envs, 'create', 'Create an environment', ['coffer envs create production --project shop --type PRODUCTION', 'coffer envs create dev --project shop --type DEVELOPMENT --cluster eu-west'])
    .argument('<slug>')
    .requiredOption('--project <slug>', 'the project')
    .requiredOption('--type <type>', `${ENVIRONMENT_TYPES.join(', ')} (custom roles grant per type)`)
    .option('--cluster <name-or-id>', 'the cluster it runs on (needs cluster:deploy there)')
    .action(inOrganization(async ({ api, org }, slug: string, options: { project: string; type: string; cluster?: string }) => {
      const type = options.type.toUpperCase();
      if (!(ENVIRONMENT_TYPES as readonly string[]).includes(type)) {
        throw new CliError(`--type "${options.type}" is not an environment type: use ${ENVIRONMENT_TYPES.join(', ')}`, EXIT.usage);
      }
      const cluster = options.cluster ? await findCluster(api, org, options.cluster) : undefined;
      await api.request('POST', `/orgs/${encodeURIComponent(org)}/projects/${encodeURIComponent(options.project)}/environments`, { slug, type, ...(cluster ? { cluster_id: cluster.id } : {}) });
      process.stderr.write(`Created ${type} environment ${options.project}/${slug}${cluster ? ` on cluster ${String(cluster.name)}` : ''}\n`);
    }));

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
  services
    .command('create')
    .argument('<slug>')
    .requiredOption('--project <slug>', 'the project')
    .requiredOption('--env <slug>', 'the environment')
    .requiredOption('--kind <kind>', `what it is: ${SERVICE_KINDS.join(', ')}`)
    .option('--name <name>', 'a display name')
    .option('--output <name=value...>', 'connection attributes (host, port, user, password…) from which built-in variables derive')
    .option(...ORG_OPTION)
    .description(`Create a service (kind: ${SERVICE_KINDS.join(', ')})`)
    .addHelpText('after', '\nExamples:\n  coffer services create backend --project shop --env production --kind application\n  coffer services create db --project shop --env production --kind database --output host=db.internal --output port=5432')
    .action(async (slug: string, options: { org?: string; project: string; env: string; kind: string; name?: string; output?: string[] }) => {
      const kind = options.kind.toLowerCase();
      if (!(SERVICE_KINDS as readonly string[]).includes(kind)) {
        throw new CliError(`--kind "${options.kind}" is not a service kind: use ${SERVICE_KINDS.join(', ')}`, EXIT.usage);
      }
      const outputs: Record<string, string> = {};
      for (const [index, pair] of (options.output ?? []).entries()) {
        const at = pair.indexOf('=');
        // The value may be a password: never echo the argument.
        if (at < 1) throw new CliError(`--output ${index + 1} is not name=value (no name before an =)`, EXIT.usage);
        outputs[pair.slice(0, at)] = pair.slice(at + 1);
      }
      const api = apiFromEnvironment();
      const org = encodeURIComponent(await organizationOf(api, options.org));
      await api.request('POST', `/orgs/${org}/projects/${encodeURIComponent(options.project)}/environments/${encodeURIComponent(options.env)}/services`, {
        slug,
        kind,
        ...(options.name ? { name: options.name } : {}),
        ...(options.output ? { outputs } : {}),
      });
      process.stderr.write(`Created ${kind} service ${options.project}/${options.env}/${slug}\n`);
    });
  orgCommand(services, 'rm', 'Delete a service', ['coffer services rm backend --project shop --env production'])
    .argument('<slug>')
    .requiredOption('--project <slug>', 'the project')
    .requiredOption('--env <slug>', 'the environment')
    .action(inOrganization(async ({ api, org: orgSlug }, slug: string, options: { project: string; env: string }) => {
      const org = encodeURIComponent(orgSlug);
      await api.request('DELETE', `/orgs/${org}/projects/${encodeURIComponent(options.project)}/environments/${encodeURIComponent(options.env)}/services/${encodeURIComponent(slug)}`);
      process.stderr.write(`Deleted service ${options.project}/${options.env}/${slug}\n`);
    }));

  const tokens = program.command('tokens').description('API tokens for programs').addHelpText('after', '\nExamples:\n  coffer tokens create deploy-bot --preset ci --path shop/production\n  coffer tokens ls');
  listing(tokens, 'List API tokens (never the token itself)', ['name', 'id', 'scopes', 'path', 'expires_at', 'last_used_at'], (org) => `/orgs/${org}/tokens`, 'coffer tokens ls', false);
  orgCommand(tokens, 'create', 'Create an API token: printed once, on stdout', ['coffer tokens create deploy-bot --preset ci --path shop/production', 'coffer tokens create auditor --scopes audit:read'])
    .argument('<name>')
    .option('--preset <preset>', 'read-only or ci')
    .option('--scopes <scopes>', 'comma-separated actions, resource:* or *')
    .option('--path <project[/env[/service]]>', 'restrict the token to this place')
    .option('--expires-at <time>', 'ISO-8601 expiry')
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
  orgCommand(tokens, 'revoke', 'Revoke an API token (effective on the next request, on every instance)', ['coffer tokens revoke deploy-bot', 'coffer tokens revoke 6f1c…'])
    .argument('<name-or-id>', "the token's name (as in coffer tokens ls) or id")
    .action(inOrganization(async ({ api, org }, ref: string) => {
      const token = await findToken(api, org, ref);
      await api.request('DELETE', `/orgs/${encodeURIComponent(org)}/tokens/${encodeURIComponent(token.id)}`);
      process.stderr.write(`Revoked token ${String(token.name)} (${token.id}) of ${org}\n`);
    }));
}
