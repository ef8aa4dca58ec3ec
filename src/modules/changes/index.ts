import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import { changeRoutes } from './routes.js';

/** Change records (record.ts, written with each variable change) and the change stream over them. */
export function register(app: App, deps: { db: Kysely<Database>; pollMs: number }) {
  changeRoutes(app, deps);
}
