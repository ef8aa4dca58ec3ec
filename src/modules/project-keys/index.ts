import type { Kysely } from 'kysely';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import { projectKeyRoutes } from './routes.js';
import { createProjectKeysService } from './service.js';
import { createConversionService } from './conversion.js';

/**
 * Keys of client-managed projects and conversions between the two models (issue #13): a rotation
 * or conversion changes resolved sets (`changed`), a conversion the cached project rows (`hierarchyChanged`).
 */
export function register(app: App, deps: { db: Kysely<Database>; keyring: Keyring; changed: (organizationId: string) => Promise<void>; hierarchyChanged: () => Promise<void> }) {
  projectKeyRoutes(app, createProjectKeysService(deps), createConversionService(deps));
}
