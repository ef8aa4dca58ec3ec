import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import { environmentRoutes } from './routes.js';
import { createEnvironmentsService } from './service.js';

/** Environments; renames and deletions call `hierarchyChanged` (cached token placements). */
export function register(app: App, deps: { db: Kysely<Database>; hierarchyChanged: () => Promise<void> }) {
  environmentRoutes(app, createEnvironmentsService(deps));
}
