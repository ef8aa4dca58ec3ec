/**
 * `${KEY}` expansion for client-managed projects, in the page, after decryption: a port of the
 * server's expandReferences (src/modules/variables/resolve.ts), which the CLI calls too. The
 * console cannot import that file (it needs Node's Buffer and the server's error types);
 * web/test/client-keys-references.test.ts runs both on the same inputs and expects the same
 * values and the same error messages.
 */

/** `$${` first, so an escaped reference is never read as one (resolve.ts REFERENCE). */
const REFERENCE = /\$\$\{|\$\{([A-Z_][A-Z0-9_]*)\}/g;
const MAX_VALUE_BYTES = 64 * 1024;
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_RESOLUTION_BYTES = 16 * 1024 * 1024;

export interface Expandable {
  key: string;
  value: string;
  type: 'plain' | 'secret' | 'file';
  scope: string;
}

/** A missing reference, a cycle or an oversized expansion: the server's 422 message, word for word. */
export class ExpansionError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ExpansionError';
  }
}

const encoder = new TextEncoder();
const byteLength = (text: string) => encoder.encode(text).length;
const tooLarge = (key: string, message: string, limit: number) => new ExpansionError(`Variable ${key} ${message}`, { key, limit_bytes: limit });

/** Expands references among the winning variables; whatever references an omitted key is left out and added to `omitted`. */
export function expandReferences<V extends Expandable>(winners: ReadonlyMap<string, { variable: V }>, omitted: Set<string>): Map<string, V> {
  const done = new Map<string, V>();
  const bytesOf = new Map<string, number>();
  const inProgress: string[] = [];
  let total = 0;

  const expand = (key: string, variable: V): string | undefined => {
    const limit = variable.type === 'file' ? MAX_FILE_BYTES : MAX_VALUE_BYTES;
    const parts: string[] = [];
    let bytes = 0;
    const add = (text: string, size = byteLength(text)) => {
      bytes += size;
      if (bytes > limit) throw tooLarge(key, `expands to more than ${limit} bytes, the most a ${variable.type} value may hold`, limit);
      parts.push(text);
    };
    let last = 0;
    let hidden = false;
    for (const match of variable.value.matchAll(REFERENCE)) {
      add(variable.value.slice(last, match.index));
      last = match.index + match[0].length;
      const name = match[1];
      if (name === undefined) {
        add('${');
        continue;
      }
      const resolved = visit(name, key);
      if (resolved === undefined) hidden = true;
      else add(resolved, bytesOf.get(name));
    }
    add(variable.value.slice(last));
    return hidden ? undefined : parts.join('');
  };

  const visit = (key: string, referencedBy: string | null): string | undefined => {
    if (omitted.has(key)) return undefined;
    const finished = done.get(key);
    if (finished) return finished.value;
    const winner = winners.get(key);
    if (!winner) throw new ExpansionError(`Variable ${referencedBy} references \${${key}}, which is not defined here`, { key: referencedBy, missing: key });
    const cycleStart = inProgress.indexOf(key);
    if (cycleStart !== -1) {
      const cycle = [...inProgress.slice(cycleStart), key];
      throw new ExpansionError(`Variables reference each other in a cycle: ${cycle.join(' → ')}`, { cycle });
    }
    // Built-in values come from the platform as they are: never templates.
    inProgress.push(key);
    const value = winner.variable.scope === 'builtin' ? winner.variable.value : expand(key, winner.variable);
    inProgress.pop();
    if (value === undefined) {
      omitted.add(key);
      return undefined;
    }
    const bytes = byteLength(value);
    total += bytes;
    if (total > MAX_RESOLUTION_BYTES) throw tooLarge(key, `takes the resolution past ${MAX_RESOLUTION_BYTES} bytes of values, the most one resolution carries`, MAX_RESOLUTION_BYTES);
    bytesOf.set(key, bytes);
    done.set(key, { ...winner.variable, value });
    return value;
  };

  for (const key of winners.keys()) visit(key, null);
  return done;
}
