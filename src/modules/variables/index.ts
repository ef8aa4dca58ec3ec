import type { Kysely } from 'kysely';
import type { Invalidation } from '../../kernel/cache/invalidation.js';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import { createKeySets } from '../audit/key-sets.js';
import { createReadAuditBatcher } from '../audit/read-batcher.js';
import type { ValueHmac } from '../audit/value-hmac.js';
import type { ServiceOutputs } from '../services/outputs.js';
import { withListCache } from './list-cache.js';
import { ResolutionCache } from './resolution-cache.js';
import { createResolver, type ResolutionInputs } from './resolver.js';
import { variableRoutes } from './routes.js';
import { createVariablesService } from './service.js';

/**
 * Variables and their resolution. Resolved sets are cached per organization, so whatever
 * changes an answer from elsewhere (service outputs feed built-in variables) calls `changed`.
 * Read events commit one batch at a time (see createReadAuditBatcher for why).
 */
export function register(
  app: App,
  deps: { db: Kysely<Database>; keyring: Keyring; valueHmac: ValueHmac; outputs: ServiceOutputs; invalidation: Invalidation },
) {
  const { db, keyring, outputs } = deps;
  const resolutions = new ResolutionCache<ResolutionInputs>(deps.invalidation);
  const changed = (organizationId: string) => resolutions.changed(organizationId);
  const variables = withListCache(createVariablesService({ db, keyring, valueHmac: deps.valueHmac, changed }), deps.invalidation);
  const resolver = createResolver({ db, keyring, readAudit: createReadAuditBatcher(db), keySets: createKeySets(db), outputs, cache: resolutions });
  variableRoutes(app, variables, resolver);
  return { changed, resolver };
}
