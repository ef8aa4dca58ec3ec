import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { rootKeyCheck, verifyRootKeyCheck } from './root-key.js';

/** The coffer_settings row holding the root key check value. */
export const ROOT_KEY_CHECK = 'root_key_check';
const CHECK = ROOT_KEY_CHECK;

/** The stored check value, or undefined before the first start wrote one. */
export async function storedRootKeyCheck(db: Kysely<Database>): Promise<Buffer | undefined> {
  const stored = await db.selectFrom('coffer_settings').select('value').where('name', '=', CHECK).executeTakeFirst();
  return stored?.value;
}

/** Does `rootKey` open data whose check value is `check`? */
export function rootKeyOpens(rootKey: Buffer, check: Buffer): boolean {
  try {
    verifyRootKeyCheck(rootKey, check);
    return true;
  } catch {
    return false;
  }
}

/**
 * Refuses to serve with a root key other than the one the data was written with: the
 * first start records a check value; every later start verifies it (WrongRootKeyError).
 */
export async function ensureRootKeyMatches(db: Kysely<Database>, rootKey: Buffer): Promise<void> {
  const stored = await db.selectFrom('coffer_settings').select('value').where('name', '=', CHECK).executeTakeFirst();
  if (stored) {
    verifyRootKeyCheck(rootKey, stored.value);
    return;
  }
  await db
    .insertInto('coffer_settings')
    .values({ name: CHECK, value: rootKeyCheck(rootKey) })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const winner = await db.selectFrom('coffer_settings').select('value').where('name', '=', CHECK).executeTakeFirstOrThrow();
  verifyRootKeyCheck(rootKey, winner.value);
}
