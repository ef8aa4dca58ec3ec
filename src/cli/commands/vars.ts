import type { Command } from 'commander';
import { CliError, EXIT, type ApiClient } from '../api-client.js';
import { apiFromEnvironment, organizationOf } from '../context.js';
import { readInputFile } from '../messages.js';
import { lineOf, refuseInvalid, refusedItem, type Locator } from '../import-checks.js';
import { printJson, progress, table } from '../output.js';
import { pgServiceFromArguments, pgServiceFromFile, type PgServiceBody } from '../pg-service-args.js';
import { ORG_OPTION } from '../org-command.js';
import { CLIENT_PLACEHOLDER } from '../../kernel/crypto/client-envelope.js';
import { PASSPHRASE_OPTION, clientScope, decryptFor, encryptFor, type ClientScope } from '../client-project.js';

interface ScopeOptions {
  org?: string;
  path?: string;
  json?: boolean;
  passphraseFile?: string;
}

/** The client scope when --path is in a client-managed project (values are encrypted and decrypted here). */
async function clientOf(api: ApiClient, options: ScopeOptions): Promise<ClientScope | null> {
  return clientScope(api, await organizationOf(api, options.org), options.path, options.passphraseFile);
}

/** A client-managed plain value in clear; secrets and files stay the placeholder the server sent (write-only, as everywhere). */
function readable(client: ClientScope | null, variable: { key: string | null; type: string; value: string | null; version: number; assignee_user_id?: string | null }): string | null {
  if (!client || variable.type !== 'plain' || variable.value === null || variable.value === CLIENT_PLACEHOLDER) return variable.value;
  return decryptFor(client.project, variable.value, client.scopeOf(variable.assignee_user_id ?? null), variable.key!, variable.version);
}

/** The body fields carrying a value: in a client-managed project, ciphertext bound to the version this write creates. */
function valueFields(client: ClientScope | null, key: string, plaintext: string, current: { version: number } | undefined, assignee: string | null) {
  if (!client) return { value: plaintext };
  const version = current ? current.version + 1 : 1;
  return { value: encryptFor(client.project, plaintext, client.scopeOf(assignee), key, version), version };
}

/** The variables collection of a scope: the organization (no --path), or project[/env[/service]]. */
export async function collection(api: ApiClient, options: ScopeOptions): Promise<string> {
  const org = encodeURIComponent(await organizationOf(api, options.org));
  if (!options.path) return `/orgs/${org}/variables`;
  const parts = options.path.split('/').filter(Boolean).map(encodeURIComponent);
  if (parts.length > 3) throw new CliError(`--path must be project, project/environment or project/environment/service (got "${options.path}")`, EXIT.usage);
  const [project, env, service] = parts;
  return `/orgs/${org}/projects/${project}${env ? `/environments/${env}` : ''}${service ? `/services/${service}` : ''}/variables`;
}

interface VariableView {
  id: string;
  key: string | null;
  type: string;
  value: string | null;
  pg_service?: { service: string };
  version: number;
  immutable: boolean;
  assignee_user_id: string | null;
}

async function all(api: ApiClient, base: string): Promise<VariableView[]> {
  const items: VariableView[] = [];
  let cursor: string | null = null;
  do {
    const page = (await api.request('GET', `${base}?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json() as { items: VariableView[]; next_cursor: string | null };
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

const nameOf = (v: VariableView) => v.key ?? v.pg_service?.service ?? v.id;

/** The shared variables by name: a member's own override of the same key is not the one meant. */
async function shared(api: ApiClient, base: string): Promise<Map<string, VariableView>> {
  return new Map((await all(api, base)).filter((v) => v.assignee_user_id === null).map((v) => [nameOf(v), v]));
}

async function find(api: ApiClient, base: string, name: string): Promise<VariableView> {
  const found = (await shared(api, base)).get(name);
  if (!found) throw new CliError(`No variable ${name} here (list them with coffer vars ls)`, EXIT.notFound);
  return found;
}

function withScope(command: Command): Command {
  return command
    .option(...ORG_OPTION)
    .option('-p, --path <project[/env[/service]]>', 'the scope: none for the organization, or a project, environment or service')
    .option('--json', 'print JSON')
    .option(...PASSPHRASE_OPTION);
}

interface PgServiceOptions {
  pgService?: string;
  pgServiceFile?: string;
  secret?: boolean;
  file?: boolean;
  immutable?: boolean;
}

/** vars set --pg-service / --pg-service-file: creates the entry, or replaces the one of that service name. */
async function setPgService(api: ApiClient, assignments: string[], options: ScopeOptions & PgServiceOptions): Promise<void> {
  if (options.pgService !== undefined && options.pgServiceFile !== undefined) throw new CliError('Give --pg-service or --pg-service-file, not both', EXIT.usage);
  if (options.secret || options.file) throw new CliError('A pg_service entry is always a secret; drop --secret and --file', EXIT.usage);
  let name: string | undefined;
  let body: PgServiceBody;
  if (options.pgServiceFile !== undefined) {
    if (assignments.length > 0) throw new CliError('--pg-service-file takes its settings from the file: drop the keyword=value arguments', EXIT.usage);
    ({ name, body } = pgServiceFromFile(options.pgServiceFile));
  } else {
    name = options.pgService!;
    body = pgServiceFromArguments(name, assignments);
  }
  const base = await collection(api, options);
  const current = name === undefined ? undefined : (await all(api, base)).find((v) => v.type === 'pg_service' && v.assignee_user_id === null && v.pg_service?.service === name);
  const saved = (
    current
      ? await api.request('PATCH', `${base}/${current.id}`, body)
      : await api.request('POST', base, { ...body, ...(options.immutable ? { immutable: true } : {}) })
  ).json() as VariableView;
  if (options.json) return printJson(saved);
  process.stderr.write(`${current ? 'Updated' : 'Created'} pg_service ${saved.pg_service?.service ?? name} (version ${saved.version}); psql service=${saved.pg_service?.service ?? name} under coffer run\n`);
}

/** Variables a vars import sends a request: one transaction each, and a progress tick each. */
const IMPORT_BATCH = 1000;

interface Imported {
  created: number;
  updated: number;
  unchanged: number;
}

/** What a refusal midway says: which key (and line), and what earlier requests already wrote. */
function stoppedAt(error: CliError, key: string, where: Locator, done: Imported, total: number, batch: boolean): CliError {
  const before = done.created + done.updated + done.unchanged;
  const what = batch ? `in the batches before its own, of which nothing was written` : 'before it';
  return new CliError(
    `${key}${where(key)}: ${error.message}. Imported ${before} of ${total} ${what} (${done.created} created, ${done.updated} updated, ${done.unchanged} unchanged); ` +
      'fix it and run the import again (what is already there is left alone)',
    error.exitCode,
  );
}

/**
 * A dotenv file's variables through the batch route, IMPORT_BATCH at a time: a few requests
 * instead of one per variable, each one transaction with its versions and audit events.
 * Without --secret a new variable is plain and an existing one keeps its type, as vars set does.
 */
async function importInBatches(api: ApiClient, base: string, file: string, entries: [string, string][], options: { secret?: boolean }, where: Locator): Promise<Imported> {
  const done: Imported = { created: 0, updated: 0, unchanged: 0 };
  const bar = progress(`Importing ${file}`, entries.length);
  try {
    for (let start = 0; start < entries.length; start += IMPORT_BATCH) {
      const part = entries.slice(start, start + IMPORT_BATCH);
      const variables = part.map(([key, value]) => ({ key, value, ...(options.secret ? { type: 'secret' } : {}) }));
      let answer: { created: string[]; updated: string[]; unchanged: string[] };
      try {
        answer = (await api.request('POST', `${base}/batch`, { variables })).json() as typeof answer;
      } catch (error) {
        if (!(error instanceof CliError)) throw error;
        const index = refusedItem(error);
        const key = index === undefined ? `${part[0]![0]}…${part.at(-1)![0]}` : part[index]![0];
        throw stoppedAt(error, key, index === undefined ? () => '' : where, done, entries.length, true);
      }
      done.created += answer.created.length;
      done.updated += answer.updated.length;
      done.unchanged += answer.unchanged.length;
      bar.tick(part.length);
    }
  } finally {
    bar.finish();
  }
  return done;
}

/**
 * A client-managed project: each value is encrypted here and bound to the version its write
 * creates, which the batch route cannot take, so one request per variable.
 */
async function importOneByOne(api: ApiClient, base: string, client: ClientScope, file: string, entries: [string, string][], options: { secret?: boolean }, where: Locator): Promise<Imported> {
  const existing = await shared(api, base);
  const done: Imported = { created: 0, updated: 0, unchanged: 0 };
  const bar = progress(`Importing ${file}`, entries.length);
  let key = '';
  try {
    for (const [entryKey, value] of entries) {
      key = entryKey;
      const current = existing.get(key);
      if (current) {
        // Without --secret an update keeps the type, as vars set does.
        await api.request('PATCH', `${base}/${current.id}`, { ...(options.secret ? { type: 'secret' } : {}), ...valueFields(client, key, value, current, null) });
        done.updated += 1;
      } else {
        await api.request('POST', base, { key, type: options.secret ? 'secret' : 'plain', ...valueFields(client, key, value, undefined, null) });
        done.created += 1;
      }
      bar.tick();
    }
  } catch (error) {
    // Say what is already done: a rerun updates those and carries on.
    if (!(error instanceof CliError)) throw error;
    throw stoppedAt(error, key, where, done, entries.length, false);
  } finally {
    bar.finish();
  }
  return done;
}

export function varsCommands(program: Command) {
  const vars = program.command('vars').description('Manage variables and secrets at one scope (secrets are shown masked)').addHelpText('after', '\nExamples:\n  coffer vars ls --path shop/production\n  coffer vars set --path shop/production --secret API_KEY=…');

  withScope(vars.command('ls').description('List the variables of a scope'))
    .addHelpText('after', '\nExamples:\n  coffer vars ls --path shop/production\n  coffer vars ls            # organization variables')
    .action(async (options: ScopeOptions) => {
      const api = apiFromEnvironment();
      const client = await clientOf(api, options);
      const items = (await all(api, await collection(api, options))).map((v) => ({ ...v, value: readable(client, v) }));
      if (options.json) return printJson(items);
      const rows = items.map((v) => ({ ...v, key: nameOf(v), value: v.value ?? (v.pg_service ? '(pg_service)' : ''), member: v.assignee_user_id ?? '' }));
      process.stdout.write(table(rows, ['key', 'type', 'value', 'version', 'immutable', ...(items.some((v) => v.assignee_user_id) ? ['member'] : [])]));
    });

  withScope(vars.command('get').argument('<key>').description('Show one variable (secrets masked)'))
    .addHelpText('after', '\nExamples:\n  coffer vars get DATABASE_URL --path shop/production')
    .action(async (key: string, options: ScopeOptions) => {
      const api = apiFromEnvironment();
      const client = await clientOf(api, options);
      const found = await find(api, await collection(api, options), key);
      const variable = { ...found, value: readable(client, found) };
      if (options.json) return printJson(variable);
      if (variable.type !== 'plain') process.stderr.write(`coffer: ${key} is a ${variable.type}: shown masked; coffer run or coffer export give its value\n`);
      process.stdout.write(`${variable.value ?? JSON.stringify(variable.pg_service)}\n`);
    });

  withScope(
    vars
      .command('set')
      .argument('[assignments...]', 'KEY=VALUE pairs; with --file, KEY=@path reads the value from a file; with --pg-service, keyword=value settings')
      .description('Create or update variables, or a pg_service entry')
      .option('--secret', 'store them as secrets (write-only)')
      .option('--file', 'store them as file variables (needs --mount-path)')
      .option('--mount-path <path>', 'where a file variable is delivered')
      .option('--immutable', 'never editable once created (can still be deleted)')
      .option('--member <user_id>', 'project scope: an override used only in this member\'s resolutions')
      .option('--pg-service <name>', 'a pg_service entry NAME from host=… port=… dbname=… user=… [password=…] [sslmode=…] (other libpq keywords too)')
      .option('--pg-service-file <file>', 'a pg_service entry from the raw text of one pg_service.conf section ([name] then keyword=value lines); - reads stdin'),
  )
    .addHelpText(
      'after',
      [
        '',
        'pg_service entries are secrets: coffer run writes them to a pg_service.conf named by PGSERVICEFILE, so psql service=NAME works.',
        '',
        'Examples:',
        '  coffer vars set --path shop/production LOG_LEVEL=info',
        '  coffer vars set --path shop/production --secret STRIPE_KEY="$STRIPE_KEY"',
        '  coffer vars set --path shop/production --file TLS_CERT=@cert.pem --mount-path /etc/tls/cert.pem',
        '  coffer vars set --path gis/production --pg-service gis host=db.internal port=5432 dbname=gis user=qgis password="$PGPASSWORD" sslmode=require',
        '  coffer vars set --path gis/production --pg-service-file gis.conf',
      ].join('\n'),
    )
    .action(async (assignments: string[], options: ScopeOptions & PgServiceOptions & { secret?: boolean; file?: boolean; mountPath?: string; immutable?: boolean; member?: string }) => {
      const api = apiFromEnvironment();
      if (options.pgService !== undefined || options.pgServiceFile !== undefined) return setPgService(api, assignments, options);
      if (assignments.length === 0) throw new CliError('Give at least one KEY=VALUE (or --pg-service NAME settings…, or --pg-service-file FILE)', EXIT.usage);
      const base = await collection(api, options);
      const client = await clientOf(api, options);
      // Without a type flag an update keeps the variable's type: a secret never turns plain by omission.
      const flagged = options.file ? 'file' : options.secret ? 'secret' : undefined;
      const member = options.member ?? null;
      const existing = member ? new Map((await all(api, base)).filter((v) => v.assignee_user_id === member).map((v) => [nameOf(v), v])) : await shared(api, base);
      for (const [index, assignment] of assignments.entries()) {
        const at = assignment.indexOf('=');
        // Never echo the argument: a forgotten KEY= leaves only the secret in it.
        if (at < 0) throw new CliError(`Argument ${index + 1} has no "=": write it as KEY=VALUE${options.file ? ' or KEY=@file' : ''} (e.g. LOG_LEVEL=info)`, EXIT.usage);
        if (at === 0) throw new CliError(`Argument ${index + 1} has no key before its "=": write it as KEY=VALUE (e.g. LOG_LEVEL=info)`, EXIT.usage);
        const key = assignment.slice(0, at);
        let value = assignment.slice(at + 1);
        // `vars set "$SECRET"` with a base64 secret splits at its padding: what looks like the key is
        // the secret. Refused here, unquoted, rather than quoted back by the server's refusal of the key.
        if (/^=*$/.test(value) && !new RegExp((await import('../../modules/variables/rules.js')).KEY_PATTERN).test(key)) {
          throw new CliError(`Argument ${index + 1} is not KEY=VALUE: nothing valid before its "=" and nothing after (not shown, in case it is a secret)`, EXIT.usage);
        }
        if (options.file && value.startsWith('@')) value = readInputFile(value.slice(1), `--file ${key}=${value}`).toString('utf8');
        const current = existing.get(key);
        const type = flagged ?? (current ? undefined : 'plain');
        const body = { ...(type ? { type } : {}), ...valueFields(client, key, value, current, member), ...(options.file ? { mount_path: options.mountPath } : {}) };
        const saved = current
          ? (await api.request('PATCH', `${base}/${current.id}`, body)).json()
          : (await api.request('POST', base, { key, ...body, ...(options.immutable ? { immutable: true } : {}), ...(member ? { assignee_user_id: member } : {}) })).json();
        if (options.json) printJson(saved);
        else process.stderr.write(`${current ? 'Updated' : 'Created'} ${key} (version ${(saved as VariableView).version})\n`);
      }
    });

  withScope(
    vars
      .command('import')
      .argument('<file>', 'a dotenv file')
      .description('Create or update every variable of a dotenv file, with a progress bar')
      .option('--secret', 'store them as secrets'),
  )
    .addHelpText(
      'after',
      `\nSent in batches of ${IMPORT_BATCH}, each one transaction: a key that already holds the value is left alone, each change is a new version with its own audit event. ` +
        'Every key and value is checked before anything is sent; a refusal from the server stops the import between batches, saying what was imported before it ' +
        '(run it again once fixed: what is already there is left alone). coffer import FILE --from dotenv writes a whole file in one transaction, with --dry-run.\n\n' +
        'Examples:\n  coffer vars import .env --path shop/staging --secret',
    )
    .action(async (file: string, options: ScopeOptions & { secret?: boolean }) => {
      const { parse } = await import('dotenv');
      const { dotenvLines } = await import('../import-formats.js');
      const content = readInputFile(file, 'coffer vars import');
      const entries = Object.entries(parse(content));
      const where = lineOf(dotenvLines(content));
      await refuseInvalid(file, entries.map(([key, value]) => ({ key, value, type: options.secret ? 'secret' : 'plain' })), where);
      const api = apiFromEnvironment();
      const base = await collection(api, options);
      const client = await clientOf(api, options);
      const outcome = client ? await importOneByOne(api, base, client, file, entries, options, where) : await importInBatches(api, base, file, entries, options, where);
      const unchanged = outcome.unchanged > 0 ? `, ${outcome.unchanged} unchanged` : '';
      process.stderr.write(`Imported ${entries.length} variables from ${file}: ${outcome.created} created, ${outcome.updated} updated${unchanged}\n`);
    });

  withScope(vars.command('rm').argument('<keys...>').description('Delete variables (their history is kept)'))
    .addHelpText('after', '\nExamples:\n  coffer vars rm OLD_FLAG --path shop/production')
    .action(async (keys: string[], options: ScopeOptions) => {
      const api = apiFromEnvironment();
      const base = await collection(api, options);
      for (const key of keys) {
        const variable = await find(api, base, key);
        await api.request('DELETE', `${base}/${variable.id}`);
        process.stderr.write(`Deleted ${key}\n`);
      }
    });

  withScope(vars.command('history').argument('<key>').description('Every version of a variable, newest first'))
    .addHelpText('after', '\nExamples:\n  coffer vars history DATABASE_URL --path shop/production')
    .action(async (key: string, options: ScopeOptions) => {
      const api = apiFromEnvironment();
      const base = await collection(api, options);
      const variable = await find(api, base, key);
      const client = await clientOf(api, options);
      const page = (await api.request('GET', `${base}/${variable.id}/versions?limit=200`)).json() as { items: { version: number; operation: string; type: string; value: string | null; actor: { name: string }; created_at: string }[] };
      for (const item of page.items) {
        try {
          item.value = readable(client, { ...item, key });
        } catch (error) {
          // Versions from before a key rotation stay under the discarded key: say so rather than fail the listing.
          if (!(error instanceof CliError)) throw error;
          item.value = '(unreadable: encrypted under an earlier key)';
        }
      }
      if (options.json) return printJson(page.items);
      process.stdout.write(table(page.items.map((v) => ({ ...v, actor: v.actor.name })), ['version', 'operation', 'value', 'actor', 'created_at']));
    });

  withScope(vars.command('rollback').argument('<key>').argument('<version>').description('Restore an earlier version (as a new version)'))
    .addHelpText('after', '\nExamples:\n  coffer vars rollback DATABASE_URL 3 --path shop/production')
    .action(async (key: string, version: string, options: ScopeOptions) => {
      const api = apiFromEnvironment();
      const base = await collection(api, options);
      const variable = await find(api, base, key);
      const saved = (await api.request('POST', `${base}/${variable.id}/rollback`, { version: Number(version) })).json() as VariableView;
      if (options.json) return printJson(saved);
      process.stderr.write(`Rolled ${key} back to version ${version} (now version ${saved.version})\n`);
    });
}
