import { boundedCache } from '../../kernel/cache/bounded.js';
import type { Membership } from '../../kernel/db/schema.js';
import type { MaybePromise } from '../../kernel/maybe.js';
import { grantsOfCustomRole, grantsOfSystemRole, type CustomRoleDefinition, type Grants } from './grants.js';
import { isSystemRole } from './system-roles.js';

const MAX_CACHED_ROLES = 10_000;
/** Versions keep entries correct; the TTL only lets roles no longer used (or deleted) go. */
const CACHED_ROLE_TTL_MS = 60 * 60_000;

/**
 * Compiled grants per membership. System roles are compiled once; a custom role is
 * cached under its version, which every change bumps in the same transaction, and the
 * version is read with the membership on every request: a change takes effect on the
 * next request on every instance, with no message between instances.
 */
export function createGrantsLoader(loadDefinition: (roleId: string) => Promise<(CustomRoleDefinition & { version: number }) | undefined>) {
  const cache = boundedCache<string, { version: number; grants: Grants }>(MAX_CACHED_ROLES, { ttl: CACHED_ROLE_TTL_MS });

  return {
    /** At once for a system role or a custom role compiled at this version; through the database otherwise. */
    load(membership: Membership, roleVersion: number | null): MaybePromise<Grants | null> {
      if (membership.role_id === null) {
        return isSystemRole(membership.role) ? grantsOfSystemRole(membership.role) : null;
      }
      const cached = cache.get(membership.role_id);
      if (cached && cached.version === roleVersion) return cached.grants;
      return compile(membership.role_id);
    },
  };

  async function compile(roleId: string): Promise<Grants | null> {
    const definition = await loadDefinition(roleId);
    if (!definition) return null;
    const grants = grantsOfCustomRole(definition);
    cache.set(roleId, { version: definition.version, grants });
    return grants;
  }
}

export type GrantsLoader = ReturnType<typeof createGrantsLoader>;
