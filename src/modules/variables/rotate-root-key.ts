import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { KeyProvider } from '../../kernel/crypto/key-provider.js';
import { rotateWrappedKeys, rootKeyCheck, verifyRootKeyCheck } from '../../kernel/crypto/root-key.js';
import { ROOT_KEY_CHECK } from '../../kernel/crypto/root-key-check.js';
import { rewrapAuditKeys } from '../audit/audit-keys.js';
import { createVariablesRepo } from './repo.js';

const CHECK = ROOT_KEY_CHECK;

/**
 * Re-wraps every data key and the audit log's keys from the old root key to the new one, and
 * records the new key's check value, in one transaction (SPEC §4): values, checkpoints and
 * HMACs stay valid, and a failure anywhere leaves everything under the old key. Returns how
 * many data keys were re-wrapped (`onAuditKeys` hears how many audit keys were).
 */
export async function rotateRootKey(
  db: Kysely<Database>,
  keys: { oldRootKey: Buffer; newRootKey: Buffer; oldProvider: KeyProvider; newProvider: KeyProvider },
  onAuditKeys: (count: number) => void = () => {},
): Promise<number> {
  return db.transaction().execute(async (tx) => {
    const repo = createVariablesRepo(tx);
    const stored = await repo.rootKeyCheckForUpdate(CHECK);
    // Refuses a wrong "old" key before touching anything (WrongRootKeyError says what to do).
    if (stored) verifyRootKeyCheck(keys.oldRootKey, stored.value);
    const rows = await repo.dataKeysForUpdate();
    const rewrapped = await rotateWrappedKeys(keys.oldProvider, keys.newProvider, rows.map((row) => row.wrapped));
    for (const [index, row] of rows.entries()) {
      await repo.rewrapDataKey(row.id, rewrapped[index]!, keys.newProvider.id);
    }
    onAuditKeys(await rewrapAuditKeys(tx, keys));
    await repo.storeRootKeyCheck(CHECK, rootKeyCheck(keys.newRootKey));
    return rows.length;
  });
}
