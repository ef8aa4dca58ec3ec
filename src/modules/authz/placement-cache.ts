import { LRUCache } from 'lru-cache';
import type { Invalidation } from '../../kernel/cache/invalidation.js';
import { NO_USER } from './resolve-scope.js';
import type { Placement, ScopeRepo } from './scope-repo.js';

export const HIERARCHY_TOPIC = 'hierarchy';

/** Invalidation keeps placements current; the TTL only lets rarely used ones go. */
const PLACEMENT_TTL_MS = 10 * 60_000;

/**
 * API tokens are placed in the hierarchy on every request, the hot path of CI and of
 * resolution. A token has no membership (people's memberships are read every time, so a
 * role change applies at once), so its placement depends only on the organization,
 * project, environment and service rows: cached here until any of them changes
 * (`hierarchyChanged`, on this instance first, then on the others). Only complete
 * placements are kept, so a creation never needs to invalidate anything.
 */
export function withPlacementCache(repo: ScopeRepo, invalidation: Invalidation, maxEntries = 10_000) {
  const entries = new LRUCache<string, Placement>({ max: maxEntries, ttl: PLACEMENT_TTL_MS });
  let epoch = 0;
  const clear = () => {
    epoch += 1;
    entries.clear();
  };
  invalidation.subscribe(HIERARCHY_TOPIC, clear, clear);

  const cached: ScopeRepo & { hierarchyChanged(): Promise<void> } = {
    ...repo,
    async place(userId, slugs) {
      if (userId !== NO_USER || !invalidation.healthy) return repo.place(userId, slugs);
      const key = `${slugs.org}|${slugs.project ?? ''}|${slugs.env ?? ''}|${slugs.service ?? ''}`;
      const hit = entries.get(key);
      if (hit) return hit;
      const started = epoch;
      const placement = await repo.place(userId, slugs);
      const complete =
        placement.organization !== null &&
        (slugs.project === undefined || placement.project !== null) &&
        (slugs.env === undefined || placement.environment !== null) &&
        (slugs.service === undefined || placement.service !== null);
      // A change committed while we read must not leave the old rows cached.
      if (complete && started === epoch) entries.set(key, placement);
      return placement;
    },
    hierarchyChanged: () => invalidation.publish(HIERARCHY_TOPIC, '*'),
  };
  return cached;
}
