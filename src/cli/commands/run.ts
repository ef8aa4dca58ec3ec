import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { constants } from 'node:os';
import type { Command } from 'commander';
import type { Resolution } from '../../modules/variables/formats.js';
import { CliError, EXIT } from '../api-client.js';
import { apiFromEnvironment, onPlace, organizationOf, placePath } from '../context.js';
import { ORG_OPTION } from '../org-command.js';
import { PASSPHRASE_OPTION } from '../client-project.js';
import type { ClientResolution } from '../../modules/variables/client-resolution.js';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

interface RunOptions {
  org?: string;
  path: string;
  member?: string;
  inherit: boolean;
  fallback?: string;
  passphraseFile?: string;
  watch?: boolean;
  onChange: string;
  gracePeriod: string;
}

export function runCommand(program: Command) {
  program
    .command('run')
    .description('Run a command with the resolved variables of an environment or service in its environment')
    .requiredOption('-p, --path <project/env[/service]>', 'where to resolve, e.g. shop/production/backend')
    .option(...ORG_OPTION)
    .option('--member <user_id>', 'resolve on behalf of a member (needs authz:check)')
    .option('--no-inherit', 'start the command with only the resolved variables, not this shell\'s environment')
    .option(...PASSPHRASE_OPTION)
    .option('--fallback <file>', 'keep an encrypted copy of each resolution in FILE and use it when the server is unreachable')
    .option('--watch', 'follow changes to the place: restart the command (or signal it) when its configuration changes')
    .option('--on-change <action>', 'with --watch: restart (SIGTERM, grace period, SIGKILL) or signal:NAME (rewrite files, then send NAME)', 'restart')
    .option('--grace-period <seconds>', 'with --watch: how long a restarted command has to exit after SIGTERM', '10')
    .argument('<command...>', 'the command and its arguments, after --')
    .passThroughOptions()
    .addHelpText(
      'after',
      [
        '',
        'file variables are written to a private temporary directory and the variable holds the path;',
        'pg_service entries go to one pg_service.conf named by PGSERVICEFILE. All of it is removed when',
        'the command ends, however it ends. Signals are forwarded; coffer exits with the command\'s code.',
        '',
        'Examples:',
        '  coffer run --path shop/production/backend -- node server.js',
        '  coffer run --path shop/staging --no-inherit -- env',
        '  coffer run --path gis/production -- psql service=gis',
        '  coffer run --watch --path shop/production/backend -- node server.js',
        '  coffer run --watch --on-change signal:HUP --path shop/production/web -- nginx -g "daemon off;"',
      ].join('\n'),
    )
    .action(async (command: string[], options: RunOptions) => {
      process.exitCode = await run(command, options);
    });
}

async function run(command: string[], options: RunOptions): Promise<number> {
  const [{ loadFallback, saveFallback }, { materialize }] = await Promise.all([import('../fallback.js'), import('../resolution-files.js')]);
  const api = apiFromEnvironment();
  const org = await organizationOf(api, options.org);
  const { path, parts } = placePath(org, options.path);
  if (parts.length < 2) throw new CliError('--path must name an environment (project/env) or a service (project/env/service)', EXIT.usage);
  const query = options.member ? `?member=${encodeURIComponent(options.member)}` : '';
  const token = api.token ?? '';

  let json: string;
  try {
    json = (await api.request('GET', `${path}/resolve${query}`).catch(onPlace(`${org}/${options.path}`))).text;
    if (options.fallback) saveFallback(options.fallback, token, `${org}/${options.path}`, json);
  } catch (error) {
    if (!(error instanceof CliError) || error.exitCode !== EXIT.unreachable || !options.fallback) throw error;
    process.stderr.write(`coffer: ${error.message}\ncoffer: using the last resolution saved in ${options.fallback}\n`);
    json = loadFallback(options.fallback, token, `${org}/${options.path}`);
  }
  // A client-managed project answers ciphertext: decrypted here with the project key, opened once.
  let projectKey: Awaited<ReturnType<typeof import('../client-project.js').openProject>> | undefined;
  const plain = async (text: string): Promise<Resolution> => {
    const answer = JSON.parse(text) as Resolution | ClientResolution;
    if (!('encryption' in answer && answer.encryption === 'client')) return answer;
    const { openProject, decryptResolution } = await import('../client-project.js');
    projectKey ??= await openProject(api, org, parts[0]!, options.passphraseFile);
    return decryptResolution(answer, projectKey);
  };
  const resolution = await plain(json);
  if (resolution.omitted.length > 0) {
    process.stderr.write(`coffer: left out what you may not read: ${resolution.omitted.join(', ')}\n`);
  }

  const [name, ...args] = command;
  // Found on this shell's PATH, so --no-inherit (no PATH in the child) still runs `node app.js`.
  const file = executableOnPath(name!, process.env.PATH);
  if (options.watch) {
    const { runWatched, parseOnChange } = await import('../run-watch.js');
    const grace = Number(options.gracePeriod);
    if (!/^\d+(\.\d+)?$/.test(options.gracePeriod) || grace > 3600) throw new CliError(`--grace-period must be a number of seconds from 0 to 3600 (got "${options.gracePeriod}")`, EXIT.usage);
    const resolve = async () => plain((await api.request('GET', `${path}/resolve${query}`)).text);
    const base = options.inherit ? process.env : {};
    return runWatched({ api, placePath: path, first: resolution, resolve, file, args, base, onChange: parseOnChange(options.onChange), graceMs: grace * 1000 });
  }

  const files = materialize(resolution, options.inherit ? process.env : {});
  // The files must go whatever happens next: a failed spawn, a signal, an exception.
  process.once('exit', () => files.remove());
  const child = spawn(file, args, { stdio: 'inherit', env: files.env });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of FORWARDED) process.on(signal, forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(new CliError(`Cannot start ${name}: ${error.code === 'ENOENT' ? 'command not found' : error.message}`, 127)),
      );
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
    });
  } finally {
    for (const signal of FORWARDED) process.off(signal, forward);
    files.remove();
  }
}

/** `name` as an absolute path from PATH when it has no slash and is found there; else as given. */
function executableOnPath(name: string, searchPath: string | undefined): string {
  if (name.includes('/') || !searchPath) return name;
  for (const dir of searchPath.split(delimiter)) {
    const candidate = join(dir || '.', name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return name;
}
