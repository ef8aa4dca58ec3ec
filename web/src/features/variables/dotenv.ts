/**
 * A `.env` file's entries, read exactly as npm dotenv 17 reads them (its `parse`, which
 * `coffer vars import` uses): the console and the CLI import the same file the same way.
 * dotenv itself reads files through Node's fs, so its line rule is repeated here (BSD-2-Clause);
 * web/test/dotenv.test.ts checks both agree. Later lines win, as in dotenv.
 */
const LINE = /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/gm;

export function parseDotenv(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  const lines = text.replace(/\r\n?/gm, '\n');
  for (const match of lines.matchAll(LINE)) {
    let value = (match[2] ?? '').trim();
    const quote = value[0];
    value = value.replace(/^(['"`])([\s\S]*)\1$/gm, '$2');
    if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\r/g, '\r');
    entries.set(match[1]!, value);
  }
  return entries;
}
