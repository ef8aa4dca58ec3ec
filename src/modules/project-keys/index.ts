import type { Kysely } from 'kysely';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import { projectKeyRoutes } from './routes.js';
import { createProjectKeysService } from './service.js';

/** Keys of client-managed projects (issue #13); a rotation changes resolved sets, hence `changed`. */
export function register(app: App, deps: { db: Kysely<Database>; keyring: Keyring; changed: (organizationId: string) => Promise<void> }) {
  projectKeyRoutes(app, createProjectKeysService(deps));
}
