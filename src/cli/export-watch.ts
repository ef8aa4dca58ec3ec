import type { ApiClient } from './api-client.js';
import { replaceFile } from './resolution-files.js';
import { followChanges } from './watch.js';

/**
 * `coffer export --watch -o FILE`: the smallest agent. FILE is replaced atomically (a temporary
 * file in the same directory, mode 0600, renamed over it) whenever the export's text changes, so
 * a service reading it never sees half a file. Runs until SIGINT or SIGTERM.
 */
export async function watchExport(api: ApiClient, placePath: string, resolvePath: string, file: string, first: string): Promise<void> {
  const say = (line: string) => process.stderr.write(`coffer: ${line}\n`);
  let current = first;
  replaceFile(file, current);
  say(`wrote ${file}; watching for changes`);
  const watcher = followChanges(
    api,
    placePath,
    async () => {
      const { text } = await api.request('GET', resolvePath);
      if (text === current) return;
      replaceFile(file, text);
      current = text;
      say(`the configuration changed: rewrote ${file}`);
    },
    say,
  );
  const stop = () => watcher.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await watcher.done;
}
