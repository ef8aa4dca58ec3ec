import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import type { MembershipChanged } from '../authz/membership-cache.js';
import { roleRoutes } from './routes.js';
import { createRolesService } from './service.js';

/** Custom roles; authorization compiles their grants from `definition`. */
export function register(app: App, deps: { db: Kysely<Database>; membershipChanged: MembershipChanged }) {
  const roles = createRolesService(deps);
  roleRoutes(app, roles);
  return { definition: roles.definition };
}
