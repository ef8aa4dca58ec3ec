import { Option, type Command } from 'commander';
import { CliError, EXIT } from '../api-client.js';
import { apiFromEnvironment, organizationOf } from '../context.js';
import { lineOf, refuseInvalid } from '../import-checks.js';
import { parseExport, secretMatcher, SOURCES, type Source } from '../import-formats.js';
import { readInputFile } from '../messages.js';
import { ORG_OPTION } from '../org-command.js';
import { printJson } from '../output.js';
import { collection } from './vars.js';

interface ImportOptions {
  from: Source;
  org?: string;
  path?: string;
  secretKeys?: string;
  dryRun?: boolean;
  json?: boolean;
}

interface Outcome {
  dry_run: boolean;
  created: string[];
  updated: string[];
  unchanged: string[];
}

/** The server's batch limit (MAX_BATCH in the variables schemas): one request, so one transaction. */
const MAX_VARIABLES = 10_000;

const HELP = `
The write is one transaction: every variable is created or updated, or nothing is (an invalid key,
a value over 64 KiB or an immutable variable with another value refuses the whole file). A key
that already holds the same value and type is left alone; each change is a new version with its
own audit event. --dry-run shows what would be created, updated or left alone and writes nothing.

Formats (--from):
  dotenv     a .env file (KEY=value lines, as the dotenv package reads them)
  json       a JSON object of strings: {"API_URL": "https://…"}
  doppler    doppler secrets download --no-file --format json (DOPPLER_PROJECT, _ENVIRONMENT
             and _CONFIG, which name the Doppler place, are left out)
  infisical  infisical export --format=json (a list of {key, value, …}) or --format=csv (Key,Value)
  vault      vault kv get -format=json PATH (KV v2: data.data; KV v1 or {"data": {…}}: data)
Values must be strings: a number, boolean, null or object is refused naming its key.

Types: without --secret-keys every variable is a secret (write-only, as Doppler and Infisical
hold them). --secret-keys takes comma-separated globs (* and ?, any case): matching keys become
secrets, every other key plain. --secret-keys '' makes them all plain.

Examples:
  coffer import .env --from dotenv --path shop/staging --secret-keys '*_KEY,*_SECRET,*PASSWORD*,*TOKEN*'
  doppler secrets download --no-file --format json > doppler.json
  coffer import doppler.json --from doppler --path shop/production --dry-run
  infisical export --env=prod --format=csv > infisical.csv && coffer import infisical.csv --from infisical --path shop/production
  vault kv get -format=json secret/shop > vault.json && coffer import vault.json --from vault --path shop/production/backend
  cat .env | coffer import - --from dotenv --path shop/dev`;

export function importCommand(program: Command) {
  program
    .command('import')
    .description('Bring variables in from a .env, JSON, Doppler, Infisical or Vault export, all or nothing')
    .argument('<file>', 'the export to read (- for stdin)')
    .addOption(new Option('--from <format>', 'what wrote the file').choices(SOURCES).makeOptionMandatory())
    .option(...ORG_OPTION)
    .option('-p, --path <project[/env[/service]]>', 'where the variables go: none for the organization, or a project, environment or service')
    .option('--secret-keys <globs>', "keys stored as secrets, e.g. '*_KEY,*_SECRET,*PASSWORD*' (default: all)")
    .option('--dry-run', 'show what would be created, updated or left alone; write nothing')
    .option('--json', "print the server's answer as JSON")
    .addHelpText('after', HELP)
    .action(async (file: string, options: ImportOptions) => {
      const parsed = parseExport(options.from, readInputFile(file, 'coffer import'), file);
      for (const { key, why } of parsed.skipped) process.stderr.write(`Left out ${key}: ${why}\n`);
      if (parsed.entries.length === 0) throw new CliError(`${file} holds no variables to import (is --from ${options.from} the right format?)`, EXIT.rejected);
      if (parsed.entries.length > MAX_VARIABLES) {
        throw new CliError(`${file} holds ${parsed.entries.length} variables; one import takes at most ${MAX_VARIABLES} (split the file: each part is then its own transaction)`, EXIT.rejected);
      }
      const secret = secretMatcher(options.secretKeys);
      const variables = parsed.entries.map(([key, value]) => ({ key, value, type: secret(key) ? 'secret' : 'plain' }));
      await refuseInvalid(file, variables, lineOf(parsed.lines));
      // One transaction of thousands of writes can outlast the 30 s default on a busy server; --timeout still wins.
      process.env.COFFER_TIMEOUT ??= '600';
      const api = apiFromEnvironment();
      const place = options.path ?? `organization ${await organizationOf(api, options.org)}`;
      const base = await collection(api, options);
      const secrets = variables.filter((v) => v.type === 'secret').length;
      process.stderr.write(
        `${options.dryRun ? 'Checking' : 'Importing'} ${variables.length} variables (${secrets} secret, ${variables.length - secrets} plain) from ${file} into ${place}, in one transaction…\n`,
      );
      const outcome = (await api.request('POST', `${base}/batch`, { variables, ...(options.dryRun ? { dry_run: true } : {}) })).json() as Outcome;
      if (options.json) return printJson(outcome);
      if (options.dryRun) {
        const lines = [
          ...outcome.created.map((key) => `create     ${key}`),
          ...outcome.updated.map((key) => `update     ${key}`),
          ...outcome.unchanged.map((key) => `unchanged  ${key}`),
        ];
        process.stdout.write(lines.join('\n') + '\n');
        process.stderr.write(`Dry run, nothing written: would create ${outcome.created.length}, update ${outcome.updated.length}, leave alone ${outcome.unchanged.length}\n`);
        return;
      }
      process.stderr.write(`Imported ${variables.length} variables into ${place}: ${outcome.created.length} created, ${outcome.updated.length} updated, ${outcome.unchanged.length} unchanged\n`);
    });
}
