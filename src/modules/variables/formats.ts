import YAML from 'yaml';
import { AppError } from '../../kernel/errors.js';
import { serializePgServiceFile, type PgServiceDefinition } from './pg-service.js';

export type VariableScope = 'builtin' | 'organization' | 'project' | 'environment' | 'service' | 'member';

export interface ResolvedVariable {
  key: string;
  value: string;
  type: 'plain' | 'secret' | 'file';
  scope: VariableScope;
  variable_id: string | null;
  mount_path?: string;
}

export interface ResolvedPgService extends PgServiceDefinition {
  scope: VariableScope;
  variable_id: string;
}

export interface Resolution {
  variables: ResolvedVariable[];
  pg_services: ResolvedPgService[];
  omitted: string[];
}

export const FORMATS = ['json', 'env-json', 'dotenv', 'shell', 'yaml', 'pg_service'] as const;
export type Format = (typeof FORMATS)[number];

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';

export function render(resolution: Resolution, format: Format): { contentType: string; body: string } {
  const pairs = resolution.variables.map((variable): [string, string] => [variable.key, variable.value]);
  switch (format) {
    case 'json':
      return { contentType: JSON_TYPE, body: JSON.stringify(resolution) };
    case 'env-json':
      return { contentType: JSON_TYPE, body: JSON.stringify(Object.fromEntries(pairs)) };
    case 'dotenv':
      return { contentType: TEXT_TYPE, body: pairs.map(([key, value]) => `${key}=${dotenvValue(key, value)}\n`).join('') };
    case 'shell':
      return { contentType: TEXT_TYPE, body: pairs.map(([key, value]) => `export ${shellName(key)}=${shellQuote(value)}\n`).join('') };
    case 'yaml':
      // Keys and values all double-quoted: YAML 1.1 readers (PyYAML, Go yaml.v2) would turn a
      // plain ON, yes or 0123 into a boolean or a number.
      return {
        contentType: 'application/yaml',
        body: YAML.stringify(Object.fromEntries(pairs), { lineWidth: 0, defaultStringType: 'QUOTE_DOUBLE' }),
      };
    case 'pg_service':
      return { contentType: TEXT_TYPE, body: serializePgServiceFile(resolution.pg_services) };
  }
}

function refuse(key: string, format: Format, why: string, alternative: string): AppError {
  return new AppError('BAD_REQUEST', `Variable ${key} cannot be written as ${format} exactly (${why}); use ${alternative}`, { key, format });
}

/** bash refuses to assign these (they are read-only), so `source` would stop at them. */
const BASH_READONLY = new Set(['BASHOPTS', 'BASH_VERSINFO', 'EUID', 'PPID', 'SHELLOPTS', 'UID']);

function shellName(key: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw refuse(key, 'shell', 'not a shell variable name', 'format=env-json');
  if (BASH_READONLY.has(key)) throw refuse(key, 'shell', 'bash keeps it read-only', 'format=env-json or dotenv');
  return key;
}

/** POSIX single quotes keep every byte but ' itself, which is closed, escaped and reopened. */
const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/**
 * How the `dotenv` package's parse() reads a value back (dotenv 17, lib/main.js): it first turns
 * CRLF and CR into LF in the whole file; a value in ' ` or " runs to the first same quote not
 * preceded by a backslash (the backslash stays) and may span lines; inside " it only turns \n and
 * \r into LF and CR; a bare value stops at # or the end of the line and is trimmed. Nothing else
 * is unescaped, so each value takes the first quoting that carries it exactly, or is refused.
 */
function dotenvValue(key: string, value: string): string {
  if (!/^[\w.-]+$/.test(key)) throw refuse(key, 'dotenv', 'not a dotenv key', 'format=env-json or shell');
  const hasCR = value.includes('\r');
  if (fitsQuotes(value, "'") && !hasCR) return guarded(`'${value}'`);
  if (fitsQuotes(value, '`') && !hasCR) return guarded(`\`${value}\``);
  if (fitsQuotes(value, '"') && !/\\[nr]/.test(value)) {
    return guarded(`"${value.replaceAll('\r', '\\r').replaceAll('\n', '\\n')}"`);
  }
  const bare = value !== '' && value === value.trim() && !/^['"`]|[#\r\n\u2028\u2029]/.test(value);
  if (bare) return value;
  const noSingle = hasCR ? 'a carriage return' : "both ' and `";
  const noDouble = fitsQuotes(value, '"') ? 'a backslash before n or r' : 'a "';
  const why = `it holds ${noSingle} and ${noDouble}, and a bare value cannot carry a line break, #, edge whitespace or a leading quote`;
  throw refuse(key, 'dotenv', why, 'format=env-json or shell');
}

/** A quote with no backslash before it, which would close a value dotenv reads in that quote. */
const BARE_QUOTE = { "'": /(?:^|[^\\])'/, '`': /(?:^|[^\\])`/, '"': /(?:^|[^\\])"/ } as const;
const fitsQuotes = (value: string, quote: keyof typeof BARE_QUOTE) => !BARE_QUOTE[quote].test(value);

/**
 * A value ending in a backslash would let dotenv read its closing quote as escaped and run on to
 * a later same quote that ends a line. A trailing comment holding that quote, followed by more
 * text, is such a quote that cannot end the value, so the real closing quote is the only fit.
 */
function guarded(quoted: string): string {
  if (!quoted.endsWith('\\' + quoted[0])) return quoted;
  return `${quoted} #${quoted[0]} (keeps the trailing backslash)`;
}
