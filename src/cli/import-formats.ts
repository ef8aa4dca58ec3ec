import { parse as parseCsv } from 'csv-parse/sync';
import { parse as parseDotenv } from 'dotenv';
import { CliError, EXIT } from './api-client.js';

/**
 * What other secrets managers export, read into KEY → value pairs for `coffer import`
 * (issue 14). Each reader refuses what it cannot carry exactly (a number, a nested object)
 * naming the key, rather than importing something else than the file said.
 */

export const SOURCES = ['dotenv', 'json', 'doppler', 'infisical', 'vault'] as const;
export type Source = (typeof SOURCES)[number];

export interface Parsed {
  entries: [key: string, value: string][];
  /** Keys left out on purpose, with why (shown to the person). */
  skipped: { key: string; why: string }[];
  /** Where each key is in the file, when the format has lines worth naming (dotenv). */
  lines?: Map<string, number>;
}

/** Doppler adds these to every download: they name the Doppler place, not the application's configuration. */
const DOPPLER_OWN = new Set(['DOPPLER_PROJECT', 'DOPPLER_ENVIRONMENT', 'DOPPLER_CONFIG']);

const kindOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : `a ${typeof value}`);

function refuse(message: string): never {
  throw new CliError(message, EXIT.rejected);
}

function json(text: string, file: string, source: Source): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    return refuse(`${file} is not JSON (${(error as Error).message}); is it a ${source} export? Choose the format with --from`);
  }
}

/** A flat object of strings; `where` says which part of the file it is ("the file", "data.data"). */
function stringsOf(object: unknown, file: string, where: string, hint: string): [string, string][] {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) refuse(`${file}: ${where} must be an object of KEY: "value" pairs, not ${kindOf(object)}. ${hint}`);
  return Object.entries(object as Record<string, unknown>).map(([key, value]) => {
    if (typeof value !== 'string') {
      const shown = typeof value === 'number' || typeof value === 'boolean' ? ` (write "${String(value)}" in quotes)` : ' (store it as a string, e.g. its JSON text, or leave it out)';
      refuse(`${file}: ${key} holds ${kindOf(value)}, not a string: Coffer values are strings${shown}`);
    }
    return [key, value];
  });
}

function fromInfisical(text: string, file: string): [string, string][] {
  if (text.trimStart().startsWith('[')) {
    // `infisical export --format=json`: [{"key", "value", "type", "comment", …}, …]
    const rows = json(text, file, 'infisical');
    return (rows as unknown[]).map((row, index) => {
      const { key, value } = (row ?? {}) as { key?: unknown; value?: unknown };
      if (typeof key !== 'string') refuse(`${file}: item ${index} has no "key" string; is it the output of infisical export --format=json?`);
      if (typeof value !== 'string') refuse(`${file}: ${key} holds ${kindOf(value)}, not a string value`);
      return [key, value];
    });
  }
  // `infisical export --format=csv`: a Key,Value header (later versions may add columns such as Comment).
  let rows: string[][];
  try {
    rows = parseCsv(text, { relax_column_count: true, skip_empty_lines: true, bom: true }) as string[][];
  } catch (error) {
    return refuse(`${file} is neither an Infisical JSON array nor CSV (${(error as Error).message})`);
  }
  const header = (rows[0] ?? []).map((cell) => cell.trim().toLowerCase());
  const keyAt = header.indexOf('key');
  const valueAt = header.indexOf('value');
  if (keyAt < 0 || valueAt < 0) refuse(`${file}: the CSV needs a header row with Key and Value columns (infisical export --format=csv writes one)`);
  return rows.slice(1).map((row, index) => {
    const key = row[keyAt];
    if (key === undefined || key === '') refuse(`${file}: row ${index + 2} has no key`);
    return [key, row[valueAt] ?? ''];
  });
}

/** `vault kv get -format=json secret/x` of a KV v2 mount ({"data": {"data": {…}, "metadata": {…}}}), or a KV v1 / plain {"data": {…}}. */
function fromVault(text: string, file: string): [string, string][] {
  const dump = json(text, file, 'vault') as { data?: { data?: unknown; metadata?: unknown } };
  const hint = 'Give the output of vault kv get -format=json PATH';
  if (dump === null || typeof dump !== 'object' || !('data' in dump)) refuse(`${file} has no "data" field. ${hint}`);
  const data = dump.data;
  if (data !== null && typeof data === 'object' && 'metadata' in data && 'data' in data) {
    if (data.data === null) refuse(`${file}: data.data is null: this version was deleted or destroyed in Vault; read an earlier one with vault kv get -version=N`);
    return stringsOf(data.data, file, 'data.data', hint);
  }
  return stringsOf(data, file, 'data', hint);
}

/**
 * npm dotenv 17's line rule (lib/main.js, BSD-2-Clause), as web/src/features/variables/dotenv.ts
 * repeats it: only to say on which line of a .env file a key is, the values come from dotenv itself.
 */
const DOTENV_LINE = /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/dgm;

/** The line (from 1) each key of a .env file is set on: its last one, the one dotenv keeps. */
export function dotenvLines(content: Buffer): Map<string, number> {
  // dotenv reads \r\n and a lone \r as one line break.
  const text = content.toString('utf8').replace(/\r\n?/gm, '\n');
  const lines = new Map<string, number>();
  let line = 1;
  let counted = 0;
  for (const match of text.matchAll(DOTENV_LINE)) {
    const at = match.indices![1]![0];
    for (let i = counted; i < at; i++) if (text.charCodeAt(i) === 10) line += 1;
    counted = at;
    lines.set(match[1]!, line);
  }
  return lines;
}

export function parseExport(source: Source, content: Buffer, file: string): Parsed {
  const text = content.toString('utf8');
  let entries: [string, string][];
  switch (source) {
    case 'dotenv':
      entries = Object.entries(parseDotenv(content));
      break;
    case 'json':
      entries = stringsOf(json(text, file, source), file, 'the file', 'Give a JSON object such as {"API_URL": "https://…"}');
      break;
    case 'doppler':
      entries = stringsOf(json(text, file, source), file, 'the file', 'Give the output of doppler secrets download --no-file --format json');
      break;
    case 'infisical':
      entries = fromInfisical(text, file);
      break;
    case 'vault':
      entries = fromVault(text, file);
      break;
  }
  const seen = new Set<string>();
  for (const [key] of entries) {
    if (seen.has(key)) refuse(`${file}: ${key} appears twice; keep one`);
    seen.add(key);
  }
  const skipped = source === 'doppler' ? entries.filter(([key]) => DOPPLER_OWN.has(key)).map(([key]) => ({ key, why: "Doppler's own, naming its project and config" })) : [];
  const kept = entries.filter(([key]) => !skipped.some((s) => s.key === key));
  return { entries: kept, skipped, ...(source === 'dotenv' ? { lines: dotenvLines(content) } : {}) };
}

/**
 * `--secret-keys '*_KEY,*_SECRET,*PASSWORD*'`: comma-separated globs (`*` any run of characters,
 * `?` one), matched against the whole key, case-insensitively. No option: every key is a secret
 * (what Doppler and Infisical hold them as); an empty pattern: none is.
 */
export function secretMatcher(pattern: string | undefined): (key: string) => boolean {
  if (pattern === undefined) return () => true;
  const globs = pattern.split(',').map((glob) => glob.trim()).filter(Boolean);
  const expressions = globs.map((glob) => new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`, 'i'));
  return (key) => expressions.some((expression) => expression.test(key));
}
