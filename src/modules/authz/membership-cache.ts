import { boundedCache } from '../../kernel/cache/bounded.js';
import { evictWhere } from '../../kernel/cache/evict.js';
import type { Invalidation } from '../../kernel/cache/invalidation.js';
import type { Membership } from '../../kernel/db/schema.js';
import type { MaybePromise } from '../../kernel/maybe.js';
import { HIERARCHY_TOPIC } from './placement-cache.js';

export const MEMBERSHIP_TOPIC = 'membership';
/** Stands for every member of an organization (a custom role of it changed). */
export const EVERY_MEMBER = '*';

/** Invalidation keeps memberships current; the TTL only lets people who stopped calling go. */
const MEMBERSHIP_TTL_MS = 10 * 60_000;

export interface CachedMembership {
  membership: Membership;
  /** The version of its custom role when read, which the grants loader compiles against. */
  roleVersion: number | null;
}

/** Messages name `organization-id user-id`; the user id may be EVERY_MEMBER. */
export function membershipKey(organizationId: string, userId: string): string {
  return `${organizationId} ${userId}`;
}

/**
 * Tells every instance (this one first) that a membership was added, changed or removed,
 * once its transaction has committed and before the change is answered. `userId` may be
 * EVERY_MEMBER: a custom role of the organization was edited or deleted.
 */
export type MembershipChanged = (organizationId: string, userId: string) => Promise<void>;

export function membershipPublisher(invalidation: Invalidation): MembershipChanged {
  return (organizationId, userId) => invalidation.publish(MEMBERSHIP_TOPIC, membershipKey(organizationId, userId));
}

/**
 * People's memberships (with their custom role's version), so a signed-in request costs no
 * database round trip once warm, like an API token's. Members only: a stranger's miss is
 * not remembered, so joining needs no message to be seen. A role change, removal, transfer
 * or custom-role edit publishes MEMBERSHIP_TOPIC; deleting an organization, project or
 * environment (which changes role versions through cascades) publishes HIERARCHY_TOPIC,
 * which empties this cache too. While the channel may have lost messages nothing is served.
 *
 * Deleting a cluster also bumps the version of roles that named it (a cascade, without a
 * message): the grants kept meanwhile still name a cluster that no longer exists, which no
 * request can reach, so nothing a person may do changes.
 */
export function createMembershipCache(
  load: (organizationId: string, userId: string) => Promise<CachedMembership | undefined>,
  invalidation: Invalidation,
  maxEntries = 100_000,
) {
  const entries = boundedCache<string, CachedMembership>(maxEntries, { ttl: MEMBERSHIP_TTL_MS });
  // A read that raced with a change must not store what it read before the change.
  let epoch = 0;
  const clear = () => {
    epoch += 1;
    entries.clear();
  };
  invalidation.subscribe(
    MEMBERSHIP_TOPIC,
    (key) => {
      epoch += 1;
      const [organizationId, userId] = key.split(' ');
      if (userId === EVERY_MEMBER) evictWhere(entries, (entry) => entry.membership.organization_id === organizationId);
      else entries.delete(key);
    },
    clear,
  );
  invalidation.subscribe(HIERARCHY_TOPIC, clear, clear);

  return {
    /** The user's membership of the organization, undefined for a stranger. */
    get(organizationId: string, userId: string): MaybePromise<CachedMembership | undefined> {
      if (!invalidation.healthy) return load(organizationId, userId);
      const key = membershipKey(organizationId, userId);
      return entries.get(key) ?? read(key, organizationId, userId);
    },
  };

  async function read(key: string, organizationId: string, userId: string): Promise<CachedMembership | undefined> {
    const started = epoch;
    const found = await load(organizationId, userId);
    if (found && started === epoch && invalidation.healthy) entries.set(key, found);
    return found;
  }
}

export type MembershipCache = ReturnType<typeof createMembershipCache>;
