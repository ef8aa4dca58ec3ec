import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import { projectRoutes } from './routes.js';
import { createProjectsService } from './service.js';

/** Projects; renames and deletions call `hierarchyChanged` (cached token placements). */
export function register(app: App, deps: { db: Kysely<Database>; hierarchyChanged: () => Promise<void> }) {
  projectRoutes(app, createProjectsService(deps));
}
