import { invalid } from '../errors.js';
import { findUnsafeText } from './text-input.js';

/** Keyset cursors are opaque to clients: base64url of the last row's sort key. */
export function encodeCursor(key: string): string {
  return Buffer.from(JSON.stringify([key])).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // A forged key holding NUL or a lone surrogate would reach the database as is.
    if (Array.isArray(parsed) && typeof parsed[0] === 'string' && !findUnsafeText('query.cursor', parsed[0])) return parsed[0];
  } catch {
    // fall through
  }
  throw invalid('query.cursor', 'is not a cursor this API returned');
}

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only says there is more.
 */
export function toPage<T, R>(rows: T[], limit: number, key: (row: T) => string, shape: (row: T) => R) {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items.at(-1);
  return { items: items.map(shape), next_cursor: more && last !== undefined ? encodeCursor(key(last)) : null };
}

/**
 * A page of the rows the principal may see: fetches in keyset batches and filters, so
 * pages stay full even when many rows are hidden.
 */
export async function visiblePage<T, R>(options: {
  cursor: string | undefined;
  limit: number;
  fetch: (after: string | undefined, count: number) => Promise<T[]>;
  key: (row: T) => string;
  visible: (row: T) => boolean;
  shape: (row: T) => R;
}) {
  const { limit, fetch, key, visible } = options;
  const batch = Math.max(limit + 1, 50);
  const kept: T[] = [];
  let after = decodeCursor(options.cursor);
  for (;;) {
    const rows = await fetch(after, batch);
    for (const row of rows) {
      if (visible(row)) kept.push(row);
      if (kept.length > limit) return toPage(kept, limit, key, options.shape);
    }
    if (rows.length < batch) return toPage(kept, limit, key, options.shape);
    after = key(rows.at(-1)!);
  }
}
