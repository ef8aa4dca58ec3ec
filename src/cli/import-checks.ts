import { CliError, EXIT } from './api-client.js';

/** Where a key is in the file, for messages: ' (line 12)', or '' when unknown. */
export type Locator = (key: string) => string;

export const lineOf =
  (lines: Map<string, number> | undefined): Locator =>
  (key) => {
    const line = lines?.get(key);
    return line === undefined ? '' : ` (line ${line})`;
  };

/**
 * Every key and value checked with the server's own rules before anything is sent, so one
 * refusal lists every bad key at once (never a value: they may be secrets).
 */
export async function problemsOf(variables: { key: string; value: string; type: string }[], where: Locator = () => ''): Promise<string[]> {
  const { checkKey, checkValue } = await import('../modules/variables/rules.js');
  const problems: string[] = [];
  for (const { key, value, type } of variables) {
    try {
      checkKey(key, 'key');
      checkValue(value, type as 'plain', 'value');
    } catch (error) {
      const { field, reason } = (error as { details?: { field: string; reason: string } }).details ?? { field: 'key', reason: String(error) };
      const renamed = key.toUpperCase().replace(/[^A-Z0-9_]/g, '_').replace(/^(\d)/, '_$1');
      const fix = field === 'key' && renamed !== key && renamed !== '' ? ` (rename it in the file, e.g. ${renamed})` : '';
      problems.push(`${JSON.stringify(key)}${where(key)}: the ${field} ${reason}${fix}`);
    }
  }
  return problems;
}

/** Refuses the whole file when any variable cannot be stored, listing the first ten problems. */
export async function refuseInvalid(file: string, variables: { key: string; value: string; type: string }[], where: Locator = () => ''): Promise<void> {
  const problems = await problemsOf(variables, where);
  if (problems.length === 0) return;
  const shown = problems.slice(0, 10).map((line) => `\n  ${line}`).join('');
  const more = problems.length > 10 ? `\n  … and ${problems.length - 10} more` : '';
  throw new CliError(`${file}: ${problems.length} of ${variables.length} variables cannot be stored; nothing was imported:${shown}${more}`, EXIT.rejected);
}

/**
 * The index of the item a batch refusal names (`body.variables[500].key` → 500), if it names one,
 * so the CLI can say which key and line it was.
 */
export function refusedItem(error: CliError): number | undefined {
  const match = error.field === undefined ? null : /^body\.variables\[(\d+)\]/.exec(error.field);
  return match ? Number(match[1]) : undefined;
}
