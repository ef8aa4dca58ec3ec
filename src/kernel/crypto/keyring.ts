import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { newDataKey, type KeyProvider } from './key-provider.js';
import { DecryptionError } from './aead.js';
import { AppError } from '../errors.js';

export interface DataKeyHandle {
  id: string;
  key: Buffer;
}

/**
 * Data keys (SPEC §4): one per project, one per organization for its own variables, created
 * on first use and stored only wrapped by the key provider. Unwrapped keys are kept in
 * memory by id: a key never changes once created (rotating the root key re-wraps it), so
 * the cache needs no invalidation, and a warm read costs no provider call.
 */
export function createKeyring(deps: { db: Kysely<Database>; provider: KeyProvider }) {
  const unwrapped = new Map<string, Buffer>();

  async function unwrap(id: string, wrapped: Buffer): Promise<Buffer> {
    const cached = unwrapped.get(id);
    if (cached) return cached;
    let key: Buffer;
    try {
      key = await deps.provider.unwrap(wrapped);
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
      throw new AppError('DECRYPTION_FAILED', `Data key ${id} does not unwrap with ${deps.provider.id}: it was altered, or wrapped under another root key`);
    }
    unwrapped.set(id, key);
    return key;
  }

  const ownerQuery = (db: Kysely<Database>, organizationId: string, projectId: string | null) =>
    db
      .selectFrom('data_keys')
      .select(['id', 'wrapped'])
      .where('organization_id', '=', organizationId)
      .where((eb) => (projectId === null ? eb('project_id', 'is', null) : eb('project_id', '=', projectId)));

  return {
    /** The data key of a project (or, with `projectId` null, of the organization), created if missing. */
    async forOwner(db: Kysely<Database>, organizationId: string, projectId: string | null): Promise<DataKeyHandle> {
      let row = await ownerQuery(db, organizationId, projectId).executeTakeFirst();
      if (!row) {
        const wrapped = await deps.provider.wrap(newDataKey());
        // A concurrent first write may create it too: theirs or ours, whichever landed, is the key.
        await db
          .insertInto('data_keys')
          .values({ organization_id: organizationId, project_id: projectId, provider: deps.provider.id, wrapped })
          .onConflict((oc) => oc.doNothing())
          .execute();
        row = await ownerQuery(db, organizationId, projectId).executeTakeFirstOrThrow();
      }
      return { id: row.id, key: await unwrap(row.id, row.wrapped) };
    },

    /** The unwrapped data keys with these ids, loading the ones not yet in memory in one query. */
    async byIds(db: Kysely<Database>, ids: Iterable<string>): Promise<Map<string, Buffer>> {
      const result = new Map<string, Buffer>();
      const missing: string[] = [];
      for (const id of new Set(ids)) {
        const key = unwrapped.get(id);
        if (key) result.set(id, key);
        else missing.push(id);
      }
      if (missing.length > 0) {
        const rows = await db.selectFrom('data_keys').select(['id', 'wrapped']).where('id', 'in', missing).execute();
        for (const row of rows) result.set(row.id, await unwrap(row.id, row.wrapped));
      }
      return result;
    },
  };
}

export type Keyring = ReturnType<typeof createKeyring>;
