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
  /** Client-managed projects: the value is client ciphertext bound to this version (see client-values.ts). */
  version?: number;
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

export const FORMATS = ['json', 'env-json', 'dotenv', 'docker', 'shell', 'yaml', 'pg_service'] as const;
export type Format = (typeof FORMATS)[number];

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/** Thrown by a line writer: why this format cannot carry the variable. Never holds the value. */
class Refusal extends Error {}

type LineWriter = (key: string, value: string) => string;

/** One line (or more, for quoted line breaks) per variable; each refuses what its readers would read differently. */
const LINE_WRITERS = {
  dotenv: (key, value) => `${shellName(key)}=${dotenvValue(value)}\n`,
  docker: (key, value) => dockerLine(key, value),
  shell: (key, value) => `export ${shellName(key)}=${shellQuote(value)}\n`,
  yaml: (key, value) => `${yamlString(key)}: ${yamlString(value)}\n`,
} satisfies Record<string, LineWriter>;

/** Formats a refused variable may use instead, in the order a reader should try them. */
const CARRIERS = ['json', 'env-json', 'yaml', 'shell', 'dotenv', 'docker'] as const;

export function render(resolution: Resolution, format: Format): { contentType: string; body: string } {
  switch (format) {
    case 'json':
      return { contentType: JSON_TYPE, body: JSON.stringify(resolution) };
    case 'env-json':
      return { contentType: JSON_TYPE, body: JSON.stringify(Object.fromEntries(resolution.variables.map((v) => [v.key, v.value]))) };
    case 'yaml': {
      // Every key and value double-quoted: YAML 1.1 readers (PyYAML, Go yaml.v2) would turn a
      // plain ON, yes or 0123 into a boolean or a number.
      const body = lines(resolution, format);
      return { contentType: 'application/yaml', body: body === '' ? '{}\n' : body };
    }
    case 'dotenv':
    case 'docker':
    case 'shell':
      return { contentType: TEXT_TYPE, body: lines(resolution, format) };
    case 'pg_service':
      return { contentType: TEXT_TYPE, body: serializePgServiceFile(resolution.pg_services) };
  }
}

function lines(resolution: Resolution, format: keyof typeof LINE_WRITERS): string {
  const write = LINE_WRITERS[format];
  return resolution.variables
    .map(({ key, value }) => {
      try {
        return write(key, value);
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        // json and env-json carry every value, so there are always at least two.
        const formats = CARRIERS.filter((other) => other !== format && carries(other, key, value));
        const use = `${formats.slice(0, -1).join(', ')} or ${formats.at(-1)}`;
        throw new AppError('BAD_REQUEST', `Variable ${key} cannot be written as ${format} exactly (${error.message}); use ${use}`, { key, format, formats });
      }
    })
    .join('');
}

function carries(format: (typeof CARRIERS)[number], key: string, value: string): boolean {
  if (format === 'json' || format === 'env-json') return true;
  try {
    LINE_WRITERS[format](key, value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Names bash does not keep as assigned when a file is sourced: read-only ones (the assignment
 * fails), ones it recomputes or ignores (RANDOM, SECONDS, LINENO, _…), ones whose assignment
 * fails for most values (OPTIND in dash, BASH_COMPAT, BASH_XTRACEFD) and SHLVL, which bash
 * lowers before it execs a command. Measured with bash 5.2 and dash 0.5.12.
 */
const SHELL_SPECIAL = new Set([
  '_', 'BASHOPTS', 'BASHPID', 'DIRSTACK', 'EPOCHREALTIME', 'EPOCHSECONDS', 'EUID', 'FUNCNAME', 'GROUPS',
  'HISTCMD', 'LINENO', 'OPTIND', 'PIPESTATUS', 'PPID', 'RANDOM', 'SECONDS', 'SHELLOPTS', 'SHLVL', 'SRANDOM', 'UID',
]);

function shellName(key: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Refusal('not a shell variable name');
  if (SHELL_SPECIAL.has(key) || key.startsWith('BASH_')) throw new Refusal('bash treats that name specially, so a sourced file would not set it');
  return key;
}

/** POSIX single quotes keep every byte but ' itself, which is closed, escaped and reopened. */
const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/**
 * The quoted forms that npm dotenv 17, python-dotenv, godotenv 1.5, Node's --env-file and a
 * POSIX shell all read as the same literal text:
 * - '…' when the value has no ' (which would close it), no \\ or trailing \ (python-dotenv
 *   unescapes \\ and \' inside single quotes; every reader takes \' as an escaped quote), and
 *   no ${…} (python-dotenv expands it whatever the quotes);
 * - "…" when the value has none of " \ $ ` (which a shell and godotenv expand or unescape).
 * A carriage return is normalised to a line break by npm dotenv and python-dotenv, and
 * godotenv deletes `---` before a line break anywhere in the file; such values are refused.
 * Unquoted values are never written: readers disagree on comments, trimming and expansion.
 */
function dotenvValue(value: string): string {
  if (value.includes('\r')) throw new Refusal('it holds a carriage return, which dotenv readers turn into a line break');
  if (value.includes('---\n')) throw new Refusal('it holds --- before a line break, which godotenv deletes');
  const single = singleQuoteProblem(value);
  if (single === null) return `'${value}'`;
  const double = /["\\$`]/.exec(value)?.[0];
  if (double === undefined) return `"${value}"`;
  throw new Refusal(`single quotes cannot carry it (${single}) and double quotes cannot (it holds a ${double === '`' ? 'backtick' : double})`);
}

function singleQuoteProblem(value: string): string | null {
  if (value.includes("'")) return "it holds a '";
  if (value.includes('\\\\')) return 'it holds two backslashes in a row, which python-dotenv reads as one';
  if (value.endsWith('\\')) return 'it ends in a backslash, which would escape the closing quote';
  if (/\$\{[^}]*\}/.test(value)) return 'it holds ${…}, which python-dotenv expands';
  return null;
}

/**
 * `docker run --env-file` (docker/cli pkg/kvfile) takes everything after the first = to the
 * end of the line as is, but reads lines with Go's bufio.Scanner: a line ends at LF, one CR
 * before it is dropped, and a line longer than 64 KiB - 1 bytes stops the whole file. Recent
 * docker versions also strip one pair of matching outer quotes, older ones keep them.
 */
const DOCKER_MAX_LINE_BYTES = 64 * 1024 - 1;

function dockerLine(key: string, value: string): string {
  if (!/^[^\s=#][^\s=]*$/.test(key)) throw new Refusal('not a docker env-file key');
  if (value.includes('\n')) throw new Refusal('it holds a line break; docker reads one line per variable');
  if (value.endsWith('\r')) throw new Refusal('it ends in a carriage return, which docker drops');
  if (/^(["']).*\1$/s.test(value)) throw new Refusal('it starts and ends with the same quote, which some docker versions strip');
  const line = `${key}=${value}`;
  const bytes = Buffer.byteLength(line, 'utf8');
  if (bytes > DOCKER_MAX_LINE_BYTES) throw new Refusal(`its line is ${bytes} bytes; docker reads at most ${DOCKER_MAX_LINE_BYTES}`);
  return `${line}\n`;
}

/**
 * A YAML double-quoted scalar that YAML 1.1 (PyYAML, libyaml, Go yaml.v2) and 1.2 (yaml,
 * js-yaml, Go yaml.v3) readers read as the same string: every character outside the printable
 * set both allow raw (C0 and C1 controls, DEL, U+FFFE/FFFF), every line break of either
 * version (LF, CR, NEL, U+2028/2029) and the BOM are escaped; nothing is folded.
 */
function yamlString(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\t') out += '\\t';
    else if (yamlRaw(code)) out += char;
    else if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

const yamlRaw = (code: number) =>
  (code >= 0x20 && code <= 0x7e) ||
  (code >= 0xa0 && code <= 0xd7ff && code !== 0x2028 && code !== 0x2029) ||
  (code >= 0xe000 && code <= 0xfffd && code !== 0xfeff) ||
  code >= 0x10000;
