import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import { clusterRoutes } from './routes.js';
import { createClustersService } from './service.js';

/** Clusters, which environments are deployed to. */
export function register(app: App, deps: { db: Kysely<Database> }) {
  clusterRoutes(app, createClustersService(deps));
}
