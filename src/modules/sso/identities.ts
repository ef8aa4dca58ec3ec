import type { Kysely } from 'kysely';
import { open, seal } from '../../kernel/crypto/aead.js';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { Database, SsoProvider } from '../../kernel/db/schema.js';

/** A sealed refresh token opens only for the member it was sealed for (a copied ciphertext fails). */
const tokenAad = (organizationId: string, userId: string) => `sso-refresh-token:${organizationId}:${userId}`;

/**
 * Remembers who signed in with which provider as which subject, and the refresh token of
 * this sign-in sealed under the organization's data key (none when the IdP gave none), for
 * "sync now". Called inside the sign-in's transaction.
 */
export async function rememberIdentity(
  tx: Kysely<Database>,
  keyring: Keyring,
  identity: { provider: SsoProvider; userId: string; subject: string; refreshToken: string | undefined },
) {
  const organizationId = identity.provider.organization_id;
  let sealed: { refresh_token_sealed: Buffer | null; data_key_id: string | null } = { refresh_token_sealed: null, data_key_id: null };
  if (identity.refreshToken) {
    const dataKey = await keyring.forOwner(tx, organizationId, null);
    sealed = { refresh_token_sealed: seal(dataKey.key, identity.refreshToken, tokenAad(organizationId, identity.userId)), data_key_id: dataKey.id };
  }
  const row = { provider_id: identity.provider.id, subject: identity.subject, ...sealed, updated_at: new Date() };
  await tx
    .insertInto('sso_identities')
    .values({ organization_id: organizationId, user_id: identity.userId, ...row })
    .onConflict((oc) => oc.columns(['organization_id', 'user_id']).doUpdateSet(row))
    .execute();
}

/** The organization's remembered identities of current members, with each member's email and role. */
export function identitiesOf(db: Kysely<Database>, organizationId: string) {
  return db
    .selectFrom('sso_identities')
    .innerJoin('memberships', (join) => join.onRef('memberships.organization_id', '=', 'sso_identities.organization_id').onRef('memberships.user_id', '=', 'sso_identities.user_id'))
    .innerJoin('users', 'users.id', 'sso_identities.user_id')
    .select(['sso_identities.user_id', 'sso_identities.provider_id', 'sso_identities.subject', 'sso_identities.refresh_token_sealed', 'sso_identities.data_key_id', 'users.email'])
    .where('sso_identities.organization_id', '=', organizationId)
    .orderBy('users.email')
    .execute();
}

/** The refresh token in plaintext, for the one grant that uses it. */
export async function openRefreshToken(db: Kysely<Database>, keyring: Keyring, organizationId: string, row: { user_id: string; refresh_token_sealed: Buffer | null; data_key_id: string | null }) {
  if (!row.refresh_token_sealed || !row.data_key_id) return undefined;
  const keys = await keyring.byIds(db, [row.data_key_id]);
  return open(keys.get(row.data_key_id)!, row.refresh_token_sealed, tokenAad(organizationId, row.user_id)).toString('utf8');
}

/** Stores the token the IdP rotated to (the old one may no longer work). */
export async function replaceRefreshToken(tx: Kysely<Database>, keyring: Keyring, organizationId: string, userId: string, refreshToken: string) {
  const dataKey = await keyring.forOwner(tx, organizationId, null);
  await tx
    .updateTable('sso_identities')
    .set({ refresh_token_sealed: seal(dataKey.key, refreshToken, tokenAad(organizationId, userId)), data_key_id: dataKey.id, updated_at: new Date() })
    .where('organization_id', '=', organizationId)
    .where('user_id', '=', userId)
    .execute();
}
