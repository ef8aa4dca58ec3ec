import { invalid } from '../../kernel/errors.js';

/** One libpq service: a `[name]` section of pg_service.conf, structured. */
export interface PgServiceDefinition {
  service: string;
  dbname?: string;
  user?: string;
  password?: string;
  host?: string;
  port?: number;
  sslmode?: SslMode;
  /** Other libpq connection keywords, by keyword. */
  extra: Record<string, string>;
}

export const PG_SERVICE_NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$';
const SERVICE_NAME = new RegExp(PG_SERVICE_NAME_PATTERN);

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
type SslMode = (typeof SSL_MODES)[number];

/** Serialization order of the first-class fields; every other keyword goes to `extra`. */
const FIRST_CLASS = ['host', 'port', 'dbname', 'user', 'password', 'sslmode'] as const;
type FirstClass = (typeof FIRST_CLASS)[number];
const isFirstClass = (keyword: string): keyword is FirstClass => (FIRST_CLASS as readonly string[]).includes(keyword);
type StringField = Exclude<FirstClass, 'port' | 'sslmode'>;

/**
 * libpq's conninfo keywords (PQconninfoOptions) from PostgreSQL 15 to 17, less `service` and
 * the first-class fields. libpq refuses a service file with any other keyword, so we do too.
 */
export const PG_SERVICE_EXTRA_KEYWORDS: readonly string[] = [
  'passfile', 'channel_binding', 'connect_timeout', 'hostaddr', 'client_encoding', 'options',
  'application_name', 'fallback_application_name', 'keepalives', 'keepalives_idle',
  'keepalives_interval', 'keepalives_count', 'tcp_user_timeout', 'sslnegotiation',
  'sslcompression', 'sslcert', 'sslkey', 'sslcertmode', 'sslpassword', 'sslrootcert', 'sslcrl',
  'sslcrldir', 'sslsni', 'requirepeer', 'require_auth', 'ssl_min_protocol_version',
  'ssl_max_protocol_version', 'gssencmode', 'krbsrvname', 'gsslib', 'gssdelegation',
  'replication', 'target_session_attrs', 'load_balance_hosts',
];
const EXTRA_KEYWORDS = new Set(PG_SERVICE_EXTRA_KEYWORDS);

/**
 * libpq 15–17 reads the service file with fgets into a 1024-byte buffer and rejects a line of
 * 1022 bytes or more, newline included: 1021 bytes of `keyword=value` (measured with libpq 15.20;
 * pg-service.test.ts checks the boundary against the real psql).
 */
export const MAX_LINE_BYTES = 1021;

const PORT_RULE = 'port must be a whole number from 1 to 65535';
const SSLMODE_RULE = `sslmode must be one of ${SSL_MODES.join(', ')}`;
const NAME_RULE = `service name must match ${PG_SERVICE_NAME_PATTERN}`;

/** Why libpq could not read `keyword=value` back exactly, or null. Never quotes the value. */
function lineProblem(keyword: string, value: string): string | null {
  // A line ends at LF, libpq strips trailing whitespace (CR included), and C strings end at NUL.
  if (/[\n\r\0]/.test(value)) return `${keyword} must not contain a line break or NUL character`;
  // libpq keeps what follows = as it is, but strips whitespace at the end of the line.
  if (/\s$/.test(value)) return `${keyword} must not end in whitespace (libpq strips it)`;
  const bytes = Buffer.byteLength(`${keyword}=${value}`, 'utf8');
  if (bytes > MAX_LINE_BYTES) return `the ${keyword} line is ${bytes} bytes; libpq reads at most ${MAX_LINE_BYTES}`;
  return null;
}

/** Why `keyword` cannot appear in extra, or null. Echoes the keyword only when it looks like one. */
function extraKeywordProblem(keyword: string): string | null {
  if (EXTRA_KEYWORDS.has(keyword)) return null;
  if (keyword === 'service') return 'service cannot be set inside a service: libpq does not nest services';
  if (isFirstClass(keyword)) return `${keyword} has its own field; do not put it in extra`;
  return /^[a-z_]{1,40}$/.test(keyword) ? `unknown libpq keyword "${keyword}"` : 'unknown libpq keyword';
}

const isWholePort = (port: unknown): port is number =>
  typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;

/** Checks a structured definition (from JSON) against what libpq reads; a normalized copy. */
export function validatePgService(definition: PgServiceDefinition, field = 'pg_service'): PgServiceDefinition {
  if (typeof definition.service !== 'string' || !SERVICE_NAME.test(definition.service)) {
    throw invalid(`${field}.service`, NAME_RULE);
  }
  const normalized: PgServiceDefinition = { service: definition.service, extra: {} };
  for (const keyword of FIRST_CLASS) {
    const value: unknown = definition[keyword];
    if (value === undefined) continue;
    if (keyword === 'port') {
      if (!isWholePort(value)) throw invalid(`${field}.port`, PORT_RULE);
      normalized.port = value;
    } else if (keyword === 'sslmode') {
      if (!(SSL_MODES as readonly unknown[]).includes(value)) throw invalid(`${field}.sslmode`, SSLMODE_RULE);
      normalized.sslmode = value as SslMode;
    } else {
      if (typeof value !== 'string') throw invalid(`${field}.${keyword}`, 'must be a string');
      const problem = lineProblem(keyword, value);
      if (problem) throw invalid(`${field}.${keyword}`, problem);
      normalized[keyword] = value;
    }
  }
  const extra = definition.extra ?? {};
  if (typeof extra !== 'object' || Array.isArray(extra)) throw invalid(`${field}.extra`, 'must be an object of libpq keyword to string');
  for (const keyword of Object.keys(extra).sort()) {
    const keywordProblem = extraKeywordProblem(keyword);
    if (keywordProblem) throw invalid(`${field}.extra`, keywordProblem);
    const value: unknown = extra[keyword];
    if (typeof value !== 'string') throw invalid(`${field}.extra.${keyword}`, 'must be a string');
    const problem = lineProblem(keyword, value);
    if (problem) throw invalid(`${field}.extra.${keyword}`, problem);
    normalized.extra[keyword] = value;
  }
  return normalized;
}

/** isspace() in the C locale: what libpq strips from both ends of a service-file line. */
const trimC = (text: string) => text.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');

/**
 * Parses the raw text of one pg_service.conf section (the advanced editor's input) exactly as
 * libpq reads it, or refuses it: lines are trimmed at both ends, `#` starts a comment only at
 * the start of a line, and a line splits at its first '='. Errors name the line, never its value.
 */
export function parsePgServiceSection(text: string, field = 'value'): PgServiceDefinition {
  const fail = (line: number, reason: string) => invalid(field, `line ${line}: ${reason}`);
  let definition: PgServiceDefinition | undefined;
  const seen = new Set<string>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const content = trimC(raw);
    if (content === '' || content.startsWith('#')) return;
    if (content.startsWith('[')) {
      if (definition) throw fail(line, 'a second [section]: one service per variable');
      const name = /^\[(.*)\]$/.exec(content)?.[1];
      if (name === undefined || !SERVICE_NAME.test(name)) throw fail(line, `expected a [service] header; ${NAME_RULE}`);
      definition = { service: name, extra: {} };
      return;
    }
    if (!definition) throw fail(line, 'keyword=value line before the [service] header');
    const equals = content.indexOf('=');
    if (equals < 0) throw fail(line, 'expected keyword=value');
    // As libpq (parseServiceFile): split at the first '=' and trim nothing more, so a space
    // after '=' is part of the value and one before it makes an unknown keyword.
    const keyword = content.slice(0, equals);
    const value = content.slice(equals + 1);
    if (/\s/.test(keyword)) throw fail(line, 'no whitespace before =: libpq would read the keyword with it and refuse the line');
    if (!isFirstClass(keyword)) {
      const keywordProblem = extraKeywordProblem(keyword);
      if (keywordProblem) throw fail(line, keywordProblem);
    }
    if (seen.has(keyword)) throw fail(line, `${keyword} is set twice`);
    seen.add(keyword);
    const problem = lineProblem(keyword, value);
    if (problem) throw fail(line, problem);
    if (keyword === 'port') {
      const port = /^[0-9]{1,5}$/.test(value) ? Number(value) : NaN;
      if (!isWholePort(port)) throw fail(line, PORT_RULE);
      definition.port = port;
    } else if (keyword === 'sslmode') {
      if (!(SSL_MODES as readonly string[]).includes(value)) throw fail(line, SSLMODE_RULE);
      definition.sslmode = value as SslMode;
    } else if (isFirstClass(keyword)) {
      definition[keyword as StringField] = value;
    } else {
      definition.extra[keyword] = value;
    }
  });
  if (!definition) throw invalid(field, 'no [service] header');
  return validatePgService(definition, field);
}

/** One `keyword=value` line per set field, first-class fields first, then extra (sorted). */
function sectionLines(definition: PgServiceDefinition): string[] {
  const lines = [`[${definition.service}]`];
  for (const keyword of FIRST_CLASS) {
    const value = definition[keyword];
    if (value !== undefined) lines.push(`${keyword}=${value}`);
  }
  for (const [keyword, value] of Object.entries(definition.extra)) lines.push(`${keyword}=${value}`);
  return lines;
}

/** A pg_service.conf for PGSERVICEFILE: one section per definition, in the given order. */
export function serializePgServiceFile(definitions: readonly PgServiceDefinition[]): string {
  const names = new Set<string>();
  const sections = definitions.map((definition, index) => {
    // Validated again because a value with a newline would inject lines into the file.
    const normalized = validatePgService(definition, `pg_services[${index}]`);
    // libpq reads the first section of a name and never the second.
    if (names.has(normalized.service)) throw invalid(`pg_services[${index}].service`, 'is a duplicate service name');
    names.add(normalized.service);
    return sectionLines(normalized).join('\n') + '\n';
  });
  return sections.join('\n');
}
