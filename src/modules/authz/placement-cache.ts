import { boundedCache } from '../../kernel/cache/bounded.js';
import type { Invalidation } from '../../kernel/cache/invalidation.js';
import type { MembershipCache } from './membership-cache.js';
import { NO_USER } from './resolve-scope.js';
import type { Placement, PlacingRepo, ScopeRepo } from './scope-repo.js';
import { andThen, type MaybePromise } from '../../kernel/maybe.js';

type Slugs = Parameters<ScopeRepo['place']>[1];

export const HIERARCHY_TOPIC = 'hierarchy';

/** Invalidation keeps placements current; the TTL only lets rarely used ones go. */
const PLACEMENT_TTL_MS = 10 * 60_000;

/**
 * Every request is placed in the hierarchy: the hot path of CI, of resolution and of people
 * in the console. A placement is the organization, project, environment and service rows,
 * cached here until any of them changes (`hierarchyChanged`, on this instance first, then on
 * the others), plus, for a person, their membership from the membership cache (which has
 * its own messages). Only complete placements are kept, so a creation never needs to
 * invalidate anything.
 */
export function withPlacementCache(repo: ScopeRepo, invalidation: Invalidation, memberships: MembershipCache, maxEntries = 10_000) {
  const entries = boundedCache<string, Placement>(maxEntries, { ttl: PLACEMENT_TTL_MS });
  let epoch = 0;
  const clear = () => {
    epoch += 1;
    entries.clear();
  };
  invalidation.subscribe(HIERARCHY_TOPIC, clear, clear);

  /** The rows the slugs name, from the cache (at once) or (kept when complete) the database. */
  function hierarchy(slugs: Slugs): MaybePromise<Placement> {
    const key = `${slugs.org}|${slugs.project ?? ''}|${slugs.env ?? ''}|${slugs.service ?? ''}`;
    return entries.get(key) ?? read(key, slugs);
  }

  async function read(key: string, slugs: Slugs): Promise<Placement> {
    const started = epoch;
    const placement = await repo.place(NO_USER, slugs);
    const complete =
      placement.organization !== null &&
      (slugs.project === undefined || placement.project !== null) &&
      (slugs.env === undefined || placement.environment !== null) &&
      (slugs.service === undefined || placement.service !== null);
    // A change committed while we read must not leave the old rows cached.
    if (complete && started === epoch) entries.set(key, placement);
    return placement;
  }

  /** A placement with a person's membership in its organization. */
  const withMember = (userId: string, placement: Placement): MaybePromise<Placement> => {
    if (userId === NO_USER) return placement;
    // Something named does not exist: the organization is all a membership needs.
    if (placement.organization === null) return placement;
    return andThen(memberships.get(placement.organization.id, userId), (member) => ({
      ...placement,
      membership: member?.membership ?? null,
      roleVersion: member?.roleVersion ?? null,
    }));
  };

  const cached: PlacingRepo & { hierarchyChanged(): Promise<void> } = {
    ...repo,
    place(userId, slugs) {
      if (!invalidation.healthy) return repo.place(userId, slugs);
      return andThen(hierarchy(slugs), (placement) => withMember(userId, placement));
    },
    hierarchyChanged: () => invalidation.publish(HIERARCHY_TOPIC, '*'),
  };
  return cached;
}
