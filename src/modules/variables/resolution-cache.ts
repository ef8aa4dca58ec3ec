import type { LRUCache } from 'lru-cache';
import { boundedCache } from '../../kernel/cache/bounded.js';
import { evictWhere } from '../../kernel/cache/evict.js';
import type { Invalidation } from '../../kernel/cache/invalidation.js';

export const RESOLUTION_TOPIC = 'resolutions';

/** Invalidation keeps answers current; the TTL only bounds how long an unused one (and its plaintext) stays in memory. */
const RESOLUTION_TTL_MS = 10 * 60_000;

/**
 * Resolved sets kept in memory, bounded (least recently used goes first) and dropped per
 * organization whenever anything in it that changes an answer changes, on this instance at
 * once and on the others through the invalidation channel. While that channel may have
 * lost messages, nothing is served from the cache.
 *
 * A load that raced with a change must not store what it read before the change: each
 * organization has a generation, bumped on every invalidation, and `set` is refused when
 * the generation is not the one `begin` returned.
 */
export class ResolutionCache<T> {
  private readonly entries: LRUCache<string, { organizationId: string; value: T }>;
  private readonly generations = new Map<string, number>();
  /** Bumped when every organization is dropped at once (the channel lost messages). */
  private epoch = 0;

  constructor(
    private readonly invalidation: Invalidation,
    maxEntries = 2000,
  ) {
    this.entries = boundedCache(maxEntries, { ttl: RESOLUTION_TTL_MS });
    invalidation.subscribe(RESOLUTION_TOPIC, (organizationId) => this.drop(organizationId), () => this.clear());
  }

  get(organizationId: string, key: string): T | undefined {
    if (!this.invalidation.healthy) return undefined;
    return this.entries.get(`${organizationId}|${key}`)?.value;
  }

  /** Call before reading from the database; pass the result to `set`. */
  begin(organizationId: string): string {
    return `${this.epoch}.${this.generations.get(organizationId) ?? 0}`;
  }

  set(organizationId: string, key: string, generation: string, value: T): void {
    if (!this.invalidation.healthy || generation !== this.begin(organizationId)) return;
    this.entries.set(`${organizationId}|${key}`, { organizationId, value });
  }

  /** Tells every instance (this one first) that the organization's answers changed. */
  changed(organizationId: string): Promise<void> {
    return this.invalidation.publish(RESOLUTION_TOPIC, organizationId);
  }

  get size(): number {
    return this.entries.size;
  }

  private drop(organizationId: string): void {
    this.generations.set(organizationId, (this.generations.get(organizationId) ?? 0) + 1);
    evictWhere(this.entries, (entry) => entry.organizationId === organizationId);
  }

  private clear(): void {
    this.epoch += 1;
    this.entries.clear();
  }
}
