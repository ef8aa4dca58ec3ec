import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { CliError, EXIT } from '../api-client.js';
import { apiFromEnvironment, organizationOf } from '../context.js';
import { openPrivateFile, printJson, table } from '../output.js';
import { ORG_OPTION, inOrganization, orgCommand } from '../org-command.js';

interface Filters {
  org?: string;
  eventType?: string;
  targetType?: string;
  target?: string;
  actor?: string;
  tool?: string;
  from?: string;
  to?: string;
}

function withFilters(command: Command): Command {
  return command
    .option(...ORG_OPTION)
    .option('--event-type <type>', 'e.g. CREATE, UPDATE, READ_SECRET, ACCESS_DENIED')
    .option('--target-type <type>', 'e.g. variable, project, token')
    .option('--target <id or name>', 'one target')
    .option('--actor <email, token name or id>', 'who did it')
    .option('--tool <tool>', 'CONSOLE, CLI, API, SDK, TERRAFORM, GIT or VAULT_API')
    .option('--from <time>', 'ISO-8601, inclusive')
    .option('--to <time>', 'ISO-8601, exclusive');
}

function query(filters: Filters, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams(extra);
  const pairs: [keyof Filters, string][] = [
    ['eventType', 'event_type'],
    ['targetType', 'target_type'],
    ['target', 'target'],
    ['actor', 'actor'],
    ['tool', 'tool'],
    ['from', 'from'],
    ['to', 'to'],
  ];
  for (const [option, name] of pairs) if (filters[option]) params.set(name, filters[option]!);
  return params.toString();
}

export function auditCommands(program: Command) {
  const audit = program.command('audit').description('Read, export and verify the audit log (audit:read)').addHelpText('after', '\nExamples:\n  coffer audit ls --event-type READ_SECRET\n  coffer audit verify');

  withFilters(audit.command('ls').description('The newest events, filtered'))
    .option('--limit <n>', 'how many (1-200)', '50')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  coffer audit ls --event-type READ_SECRET\n  coffer audit ls --actor ada@example.com --from 2026-11-01T00:00:00Z')
    .action(inOrganization(async ({ api, org: slug }, options: Filters & { limit: string; json?: boolean }) => {
      const org = encodeURIComponent(slug);
      const page = (await api.request('GET', `/orgs/${org}/audit-events?${query(options, { limit: options.limit })}`)).json() as {
        items: { seq: number; occurred_at: string; event_type: string; actor: { name: string }; tool: string; change: string }[];
      };
      if (options.json) return printJson(page.items);
      process.stdout.write(table(page.items.map((e) => ({ ...e, actor: e.actor.name })), ['seq', 'occurred_at', 'event_type', 'actor', 'tool', 'change']));
    }));

  orgCommand(audit, 'show', 'One event in full, as JSON', ['coffer audit show 0b6f…'])
    .argument('<id>')
    .action(inOrganization(async ({ api, org: slug }, id: string) => {
      const org = encodeURIComponent(slug);
      printJson((await api.request('GET', `/orgs/${org}/audit-events/${encodeURIComponent(id)}`)).json());
    }));

  withFilters(audit.command('export').description('Every matching event, streamed as JSON lines or CSV'))
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .addHelpText('after', '\nExamples:\n  coffer audit export --format csv -o audit.csv\n  coffer audit export --event-type READ_SECRET | jq .change')
    .action(async (options: Filters & { format: string; output?: string }) => {
      if (options.format !== 'jsonl' && options.format !== 'csv') throw new CliError(`--format must be jsonl or csv (got "${options.format}")`, EXIT.usage);
      const api = apiFromEnvironment();
      const org = encodeURIComponent(await organizationOf(api, options.org));
      const response = await api.stream(`/orgs/${org}/audit-events/export?${query(options, { format: options.format })}`);
      let lines = 0;
      let last = 0;
      const counted = response.on('data', (chunk: Buffer) => {
        for (const byte of chunk) if (byte === 10) lines += 1;
        // Progress on stderr, at most every 1000 lines, only on a terminal.
        if (process.stderr.isTTY && lines - last >= 1000) {
          last = lines;
          process.stderr.write(`\rexported ${lines} lines…`);
        }
      });
      await pipeline(counted, options.output ? fs.createWriteStream('', { fd: openPrivateFile(options.output) }) : process.stdout);
      process.stderr.write(`${process.stderr.isTTY ? '\r' : ''}Exported ${options.format === 'csv' ? Math.max(lines - 1, 0) : lines} events${options.output ? ` to ${options.output}` : ''}\n`);
    });

  orgCommand(audit, 'verify', 'Recompute the hash chain (and check saved checkpoints); exits 1 naming the first bad event', ['coffer audit verify', 'coffer audit verify --checkpoints /backups/coffer-checkpoints/acme'])
    .option('--checkpoints <dir>', 'also prove the log extends the signed checkpoints saved in DIR (JSON files, searched recursively)')
    .action(inOrganization(async ({ api, org: slug }, options: { checkpoints?: string }) => {
      const org = encodeURIComponent(slug);
      const result = (
        options.checkpoints
          ? await api.request('POST', `/orgs/${org}/audit-events/verify`, { checkpoints: readCheckpoints(options.checkpoints) })
          : await api.request('GET', `/orgs/${org}/audit-events/verify`)
      ).json() as { ok: boolean; checked: number; first_bad_id?: string; reason?: string; checkpoints?: { sequence: number; ok: boolean; reason?: string }[] };
      const checkpoints = result.checkpoints ?? [];
      if (result.ok) {
        process.stdout.write(`OK: ${result.checked} events verified${checkpoints.length ? `, extending ${checkpoints.length} signed checkpoints` : ''}\n`);
        return;
      }
      const bad = checkpoints.filter((c) => !c.ok).map((c) => `checkpoint ${c.sequence}: ${c.reason ?? 'does not match'}`);
      throw new CliError(
        `The audit log does not verify${result.first_bad_id ? `: first bad event ${result.first_bad_id}` : ''}${result.reason ? ` (${result.reason})` : ''}${bad.length ? `; ${bad.join('; ')}` : ''}`,
        EXIT.failure,
      );
    }));

  orgCommand(audit, 'checkpoint', 'A signed checkpoint of the chain head, to keep somewhere other than the database', ['coffer audit checkpoint -o /backups/coffer-checkpoints/acme/$(date +%s).json'])
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .action(inOrganization(async ({ api, org: slug }, options: { output?: string }) => {
      const org = encodeURIComponent(slug);
      const text = (await api.request('GET', `/orgs/${org}/audit-events/checkpoint`)).text;
      if (options.output) fs.writeFileSync(options.output, `${text}\n`);
      else process.stdout.write(`${text}\n`);
    }));
}

/** Every checkpoint JSON file under `dir`. */
function readCheckpoints(dir: string): unknown[] {
  if (!fs.existsSync(dir)) throw new CliError(`--checkpoints: no directory ${dir}`, EXIT.usage);
  const found: unknown[] = [];
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.json')) {
        const parsed = JSON.parse(fs.readFileSync(full, 'utf8')) as { checkpoint?: unknown; signature?: unknown };
        // The server's own checkpoint answer carries public_key too; verify takes checkpoint and signature.
        if (parsed.checkpoint && parsed.signature) found.push({ checkpoint: parsed.checkpoint, signature: parsed.signature });
      }
    }
  };
  walk(dir);
  if (found.length === 0) throw new CliError(`--checkpoints: no checkpoint files (*.json) under ${dir}`, EXIT.usage);
  return found;
}
