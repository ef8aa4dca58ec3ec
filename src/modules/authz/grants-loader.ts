import { boundedCache } from '../../kernel/cache/bounded.js';
import type { Membership } from '../../kernel/db/schema.js';
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
    async load(membership: Membership, roleVersion: number | null): Promise<Grants | null> {
      if (membership.role_id === null) {
        return isSystemRole(membership.role) ? grantsOfSystemRole(membership.role) : null;
      }
      const cached = cache.get(membership.role_id);
      if (cached && cached.version === roleVersion) return cached.grants;
      const definition = await loadDefinition(membership.role_id);
      if (!definition) return null;
      const grants = grantsOfCustomRole(definition);
      cache.set(membership.role_id, { version: definition.version, grants });
      return grants;
    },
  };
}

export type GrantsLoader = ReturnType<typeof createGrantsLoader>;
