import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Resolution } from '../modules/variables/formats.js';
import { CliError, type ApiClient } from './api-client.js';
import { materialize } from './resolution-files.js';
import { followChanges } from './watch.js';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

/** `--on-change restart` (default) or `signal:NAME` (e.g. signal:HUP). */
export type OnChange = { kind: 'restart' } | { kind: 'signal'; signal: NodeJS.Signals };

export function parseOnChange(raw: string): OnChange {
  if (raw === 'restart') return { kind: 'restart' };
  const name = /^signal:(?:SIG)?([A-Z0-9]+)$/i.exec(raw)?.[1]?.toUpperCase();
  if (name && `SIG${name}` in constants.signals) return { kind: 'signal', signal: `SIG${name}` as NodeJS.Signals };
  throw new CliError(`--on-change must be restart or signal:NAME, e.g. signal:HUP (got "${raw}")`, 2);
}

const exitCode = (code: number | null, signal: NodeJS.Signals | null) => code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);

/** SIGTERM, then SIGKILL once the grace period has passed; resolves when the process is gone. */
function stop(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * `coffer run --watch`: runs the command, follows the place's change stream, and when the
 * resolved configuration differs (not merely when an event arrives: a change elsewhere in the
 * organization may resolve to the same values) restarts it or signals it after rewriting its
 * files. Ends with the command's own exit code when it exits by itself.
 */
export async function runWatched(input: {
  api: ApiClient;
  placePath: string;
  first: Resolution;
  resolve: () => Promise<Resolution>;
  file: string;
  args: string[];
  base: NodeJS.ProcessEnv;
  onChange: OnChange;
  graceMs: number;
}): Promise<number> {
  const say = (line: string) => process.stderr.write(`coffer: ${line}\n`);
  let seen = JSON.stringify(input.first);
  let files = materialize(input.first, input.base);
  let finish!: (code: number) => void;
  let fail!: (error: unknown) => void;
  const ended = new Promise<number>((resolve, reject) => ((finish = resolve), (fail = reject)));

  const launch = (env: NodeJS.ProcessEnv) => {
    const started = spawn(input.file, input.args, { stdio: 'inherit', env });
    started.once('error', (error: NodeJS.ErrnoException) => fail(new CliError(`Cannot start ${input.file}: ${error.code === 'ENOENT' ? 'command not found' : error.message}`, 127)));
    // Only the current command ending by itself ends coffer; one it is replacing does not.
    started.once('exit', (code, signal) => started === child && finish(exitCode(code, signal)));
    return started;
  };
  let child: ChildProcess | undefined = launch(files.env);
  const forward = (signal: NodeJS.Signals) => child?.kill(signal);
  for (const signal of FORWARDED) process.on(signal, forward);

  const watcher = followChanges(
    input.api,
    input.placePath,
    async () => {
      const next = await input.resolve();
      const text = JSON.stringify(next);
      if (text === seen) return;
      seen = text;
      if (input.onChange.kind === 'restart') {
        const old = child!;
        child = undefined; // so the old command's exit ends nothing
        await stop(old, input.graceMs);
        files.remove();
        files = materialize(next, input.base);
        child = launch(files.env);
        say('the configuration changed: restarted the command');
      } else {
        const stale = files.rewrite(next);
        if (stale.length > 0) say(`changed without a restart, so the command still has the old ${stale.join(', ')} (use --on-change restart)`);
        child?.kill(input.onChange.signal);
        say(`the configuration changed: sent ${input.onChange.signal}`);
      }
    },
    say,
  );
  watcher.done.catch((error: unknown) => fail(error));

  try {
    return await ended;
  } finally {
    watcher.stop();
    for (const signal of FORWARDED) process.off(signal, forward);
    if (child) await stop(child, input.graceMs);
    files.remove();
  }
}
