import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { DecryptionError } from '../../kernel/crypto/aead.js';
import type { KeyProvider } from '../../kernel/crypto/key-provider.js';
import { rotateWrappedKeys } from '../../kernel/crypto/root-key.js';
import { SigningKey } from '../../kernel/crypto/signing-key.js';
import type { Database } from '../../kernel/db/schema.js';
import { createAuditRepo } from './repo.js';
import { createValueHmac, organizationHmacKey, type ValueHmac } from './value-hmac.js';

/** The rows of audit_keys (migration 0009). */
const CHECKPOINT = 'checkpoint-signing';
const VALUE_HMAC = 'value-hmac';
/** `value-hmac:<organization id>`: an organization's HMAC key as versions before 0009 derived it. */
const EARLIER_HMAC = 'value-hmac:';
/** The label versions before 0009 derived the checkpoint key under, from the root key. */
const EARLIER_CHECKPOINT_LABEL = 'audit checkpoint v1';

const KEY_BYTES = 32;

export interface AuditKeys {
  /** Signs checkpoints; its public key is published so auditors verify without Coffer. */
  signingKey: SigningKey;
  valueHmac: ValueHmac;
}

/** What a pending row must hold: the bytes versions before 0009 derived from the root key. */
function earlierKey(name: string, rootKey: Buffer): Buffer {
  if (name === CHECKPOINT) return SigningKey.derivedSeed(rootKey, EARLIER_CHECKPOINT_LABEL);
  if (name.startsWith(EARLIER_HMAC)) return organizationHmacKey(rootKey, name.slice(EARLIER_HMAC.length));
  throw new Error(`audit_keys row ${name} is pending, but nothing derives it`);
}

/**
 * Stores the keys migration 0009 left pending, from the root key the data is under now (the
 * one earlier versions derived them from). Idempotent, and safe for instances starting
 * together: each writes only a row still pending, and all derive the same bytes.
 */
export async function storeEarlierAuditKeys(db: Kysely<Database>, rootKey: Buffer, provider: KeyProvider): Promise<number> {
  const repo = createAuditRepo(db);
  const pending = await repo.pendingKeys();
  for (const { name } of pending) {
    const key = earlierKey(name, rootKey);
    const wrapped = await provider.wrap(key);
    key.fill(0);
    await repo.storePendingKey(name, wrapped, provider.id);
  }
  return pending.length;
}

/** Creates a key at random unless it exists; a concurrent start's key wins if it landed first. */
async function ensureKey(db: Kysely<Database>, name: string, provider: KeyProvider): Promise<void> {
  const repo = createAuditRepo(db);
  if (await repo.hasKey(name)) return;
  const key = randomBytes(KEY_BYTES);
  const wrapped = await provider.wrap(key);
  key.fill(0);
  await repo.insertKey(name, wrapped, provider.id);
}

/**
 * The audit log's keys, unwrapped for this process: earlier derivations stored first, the
 * checkpoint and HMAC keys generated on the first start of a new install.
 */
export async function openAuditKeys(db: Kysely<Database>, rootKey: Buffer, provider: KeyProvider): Promise<AuditKeys> {
  await storeEarlierAuditKeys(db, rootKey, provider);
  await ensureKey(db, CHECKPOINT, provider);
  await ensureKey(db, VALUE_HMAC, provider);
  const rows = await createAuditRepo(db).keys();
  const keys = new Map<string, Buffer>();
  for (const row of rows) {
    if (row.wrapped === null) continue;
    try {
      keys.set(row.name, await provider.unwrap(row.wrapped));
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
      throw new DecryptionError(`The audit log key ${row.name} does not unwrap with ${provider.id}: it was altered, or wrapped under another root key`);
    }
  }
  const earlier = new Map<string, Buffer>();
  for (const [name, key] of keys) if (name.startsWith(EARLIER_HMAC)) earlier.set(name.slice(EARLIER_HMAC.length), key);
  return {
    signingKey: new SigningKey(keys.get(CHECKPOINT)!),
    valueHmac: createValueHmac({ hmacKey: keys.get(VALUE_HMAC)!, earlier }),
  };
}

/**
 * Part of a root-key rotation, inside its transaction: stores what is still pending under the
 * old key first, then re-wraps every audit key under the new one. The keys themselves do not
 * change, so checkpoints and HMACs made before the rotation stay valid. Returns how many.
 */
export async function rewrapAuditKeys(
  tx: Kysely<Database>,
  keys: { oldRootKey: Buffer; oldProvider: KeyProvider; newProvider: KeyProvider },
): Promise<number> {
  await storeEarlierAuditKeys(tx, keys.oldRootKey, keys.oldProvider);
  const repo = createAuditRepo(tx);
  const rows = await repo.storedKeysForUpdate();
  const rewrapped = await rotateWrappedKeys(keys.oldProvider, keys.newProvider, rows.map((row) => row.wrapped!));
  for (const [index, row] of rows.entries()) {
    await repo.rewrapKey(row.name, rewrapped[index]!, keys.newProvider.id);
  }
  return rows.length;
}
