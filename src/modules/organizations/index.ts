import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import { organizationRoutes } from './routes.js';
import type { MembershipChanged } from '../authz/membership-cache.js';
import { createOrganizationsService } from './service.js';

/** Organizations and their settings; renames and deletions call `hierarchyChanged` (cached token placements). */
export function register(app: App, deps: { db: Kysely<Database>; hierarchyChanged: () => Promise<void>; membershipChanged: MembershipChanged }) {
  organizationRoutes(app, createOrganizationsService(deps));
}
