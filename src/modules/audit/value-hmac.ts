import { createHmac, hkdfSync } from 'node:crypto';

const INFO = 'coffer audit value hmac v1';

/** An organization's HMAC key: HKDF-SHA256 of `ikm` with the organization id as salt. */
export function organizationHmacKey(ikm: Buffer, organizationId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, Buffer.from(organizationId, 'utf8'), INFO, 32));
}

/**
 * SPEC §6: audit events carry an HMAC-SHA256 of changed secret values, never the value, so
 * an auditor holding a candidate value can confirm it (through Coffer) while the log alone
 * reveals nothing. Each organization has its own key, so equal values in two organizations
 * do not look equal: derived from the audit log's HMAC key (stored wrapped under the root key,
 * so a root-key rotation leaves every HMAC comparable), or, for organizations that existed
 * before that key did, the key earlier versions derived from the root key, kept as it was.
 */
export function createValueHmac(keys: { hmacKey: Buffer; earlier: ReadonlyMap<string, Buffer> }) {
  const derived = new Map<string, Buffer>();
  const keyOf = (organizationId: string) => {
    let key = keys.earlier.get(organizationId) ?? derived.get(organizationId);
    if (!key) {
      key = organizationHmacKey(keys.hmacKey, organizationId);
      derived.set(organizationId, key);
    }
    return key;
  };
  return (organizationId: string, value: string): string =>
    `hmac-sha256:${createHmac('sha256', keyOf(organizationId)).update(value, 'utf8').digest('hex')}`;
}

export type ValueHmac = ReturnType<typeof createValueHmac>;
