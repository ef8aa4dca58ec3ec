import { CliError, EXIT } from './api-client.js';
import { readInputFile } from './messages.js';

/**
 * `coffer vars set --pg-service NAME host=… port=…` and `--pg-service-file FILE`: a pg_service
 * entry (SPEC §3) as the API stores it, structured or as the raw text of one pg_service.conf
 * section (seed 002's advanced editor). The server checks every libpq rule; here only what the
 * command line itself gets wrong. No message quotes a value: a password may be in it.
 */
const FIRST_CLASS = new Set(['host', 'dbname', 'user', 'password', 'sslmode']);

export interface PgServiceBody {
  type: 'pg_service';
  pg_service?: Record<string, unknown>;
  value?: string;
}

/** The structured entry NAME from `keyword=value` arguments; unknown keywords go to `extra` (the server knows libpq's list). */
export function pgServiceFromArguments(name: string, assignments: string[]): PgServiceBody {
  if (assignments.length === 0) throw new CliError(`--pg-service ${name} needs its settings: host=… port=… dbname=… user=… [password=…] [sslmode=…]`, EXIT.usage);
  const definition: Record<string, unknown> = { service: name };
  const extra: Record<string, string> = {};
  for (const [index, assignment] of assignments.entries()) {
    const at = assignment.indexOf('=');
    if (at < 1) throw new CliError(`Argument ${index + 1} is not keyword=value (no keyword before an =), e.g. host=db.internal`, EXIT.usage);
    const keyword = assignment.slice(0, at).trim();
    const value = assignment.slice(at + 1);
    if (keyword === 'service') throw new CliError('The service name is --pg-service NAME, not service=…', EXIT.usage);
    if (keyword in definition || keyword in extra) throw new CliError(`${keyword} is given twice`, EXIT.usage);
    if (keyword === 'port') {
      if (!/^[0-9]{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) throw new CliError('port must be a whole number from 1 to 65535', EXIT.usage);
      definition.port = Number(value);
    } else if (FIRST_CLASS.has(keyword)) {
      definition[keyword] = value;
    } else {
      extra[keyword] = value;
    }
  }
  return { type: 'pg_service', pg_service: { ...definition, ...(Object.keys(extra).length ? { extra } : {}) } };
}

/** The raw section of FILE, and the service name its `[header]` gives (to find an entry to update). */
export function pgServiceFromFile(file: string): { name: string | undefined; body: PgServiceBody } {
  const text = readInputFile(file, '--pg-service-file').toString('utf8');
  const name = /^[ \t]*\[([^\]\n]*)\][ \t\r]*$/m.exec(text)?.[1];
  return { name, body: { type: 'pg_service', value: text } };
}
