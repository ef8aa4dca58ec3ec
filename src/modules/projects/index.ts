import type { Kysely } from 'kysely';
import type { Invalidation } from '../../kernel/cache/invalidation.js';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import { projectRoutes } from './routes.js';
import { createProjectsService } from './service.js';
import { createProjectListing } from './list-cache.js';
import { createProjectsRepo } from './repo.js';

/** Projects; renames and deletions call `hierarchyChanged` (cached token placements and project lists). */
export function register(app: App, deps: { db: Kysely<Database>; hierarchyChanged: () => Promise<void>; invalidation: Invalidation }) {
  const listing = createProjectListing(createProjectsRepo(deps.db), deps.invalidation);
  projectRoutes(app, createProjectsService({ db: deps.db, hierarchyChanged: deps.hierarchyChanged, listing }));
  // Vault's project list reads the same cache rather than keeping a second one.
  return { listing };
}
