import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import type { ServiceOutputs } from './outputs.js';
import { serviceRoutes } from './routes.js';
import { createServicesService } from './service.js';

/** Services; their outputs feed built-in variables (`changed`), and renames and deletions call `hierarchyChanged`. */
export function register(
  app: App,
  deps: { db: Kysely<Database>; outputs: ServiceOutputs; changed: (organizationId: string) => Promise<void>; hierarchyChanged: () => Promise<void> },
) {
  serviceRoutes(app, createServicesService(deps));
}
