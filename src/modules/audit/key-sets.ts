import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { boundedCache } from '../../kernel/cache/bounded.js';
import type { Database } from '../../kernel/db/schema.js';
import { createAuditRepo } from './repo.js';

/** The name of a list of keys: SHA-256 of its JSON, so the chain binds the exact list. */
export function keySetDigest(keys: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(keys)).digest('hex');
}

const MAX_REMEMBERED = 100_000;

/** Stores each distinct key list once per organization (see migration 0007). */
export function createKeySets(db: Kysely<Database>) {
  // Lists known to be stored: a warm resolution adds no statement for its key list.
  const stored = boundedCache<string, true>(MAX_REMEMBERED);
  const repo = createAuditRepo(db);
  return {
    async ensure(organizationId: string, keys: readonly string[]): Promise<string> {
      const digest = keySetDigest(keys);
      const id = `${organizationId}:${digest}`;
      if (stored.has(id)) return digest;
      await repo.insertKeySet(organizationId, digest, keys);
      stored.set(id, true);
      return digest;
    },
  };
}

export type KeySets = ReturnType<typeof createKeySets>;

/** The stored lists with these digests. */
export async function loadKeySets(db: Kysely<Database>, organizationId: string, digests: Iterable<string>): Promise<Map<string, string[]>> {
  const wanted = [...new Set(digests)];
  if (wanted.length === 0) return new Map();
  const rows = await createAuditRepo(db).keySetsByDigest(organizationId, wanted);
  return new Map(rows.map((row) => [row.digest, row.keys]));
}

/** The digest an event's details name, if it is one whose key list is stored apart. */
export function keySetOf(details: Record<string, unknown>): string | undefined {
  return typeof details.key_set === 'string' ? details.key_set : undefined;
}
