import type { LRUCache } from 'lru-cache';

/**
 * Deletes every entry whose value matches. Keys are collected first: deleting from an
 * LRUCache while iterating it ends the iteration at the deleted entry.
 */
export function evictWhere<K extends NonNullable<unknown>, V extends NonNullable<unknown>>(cache: LRUCache<K, V>, matches: (value: V) => boolean): void {
  const doomed: K[] = [];
  for (const [key, value] of cache.entries()) if (matches(value)) doomed.push(key);
  for (const key of doomed) cache.delete(key);
}
