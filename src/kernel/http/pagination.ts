import { invalid } from '../errors.js';
import { findUnsafeText } from './text-input.js';

/** A keyset sort key: the last row's values of the columns a list is ordered by. */
export type CursorKey = readonly (string | number)[];

type CursorKinds = readonly ('string' | 'number')[];
type DecodedKey<K extends CursorKinds> = { readonly [I in keyof K]: K[I] extends 'number' ? number : string };

/** The one cursor codec: opaque to clients, base64url of the JSON array of the last row's sort key. */
export function encodeCursor(key: string | CursorKey): string {
  return Buffer.from(JSON.stringify(typeof key === 'string' ? [key] : key)).toString('base64url');
}

/** The sort key in `cursor`, one value of each kind in `kinds`; anything this API did not issue is a 400. */
export function decodeCursorKey<const K extends CursorKinds>(cursor: string | undefined, kinds: K): DecodedKey<K> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === kinds.length && kinds.every((kind, index) => isKeyPart(parsed[index], kind))) {
      return parsed as unknown as DecodedKey<K>;
    }
  } catch {
    // fall through
  }
  throw invalid('query.cursor', 'is not a cursor this API returned');
}

/** A cursor whose sort key is one string (a slug, a name, an email). */
export function decodeCursor(cursor: string | undefined): string | undefined {
  return decodeCursorKey(cursor, ['string'])?.[0];
}

function isKeyPart(value: unknown, kind: 'string' | 'number'): boolean {
  // A forged key holding NUL or a lone surrogate would reach the database as is.
  if (kind === 'string') return typeof value === 'string' && !findUnsafeText('query.cursor', value);
  return Number.isSafeInteger(value);
}

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only says there is more.
 */
export function toPage<T, R>(rows: T[], limit: number, key: (row: T) => string | CursorKey, shape: (row: T) => R) {
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
  // Each batch twice the last (up to 1,000 rows): a member who sees 20 of 1,000 projects gets
  // a page in 5 queries, not 20; who sees everything still in one.
  let batch = Math.max(limit + 1, 50);
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
    batch = Math.max(batch, Math.min(batch * 2, 1000));
  }
}
