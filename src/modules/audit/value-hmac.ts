import { createHmac, hkdfSync } from 'node:crypto';

/**
 * SPEC §6: audit events carry an HMAC-SHA256 of changed secret values, never the value, so
 * an auditor holding a candidate value can confirm it (through Coffer) while the log alone
 * reveals nothing. The key is derived from the root key per organization, so equal values in
 * two organizations do not look equal, and it is never stored.
 */
export function createValueHmac(rootKey: Buffer) {
  const keys = new Map<string, Buffer>();
  const keyOf = (organizationId: string) => {
    let key = keys.get(organizationId);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', rootKey, Buffer.from(organizationId, 'utf8'), 'coffer audit value hmac v1', 32));
      keys.set(organizationId, key);
    }
    return key;
  };
  return (organizationId: string, value: string): string =>
    `hmac-sha256:${createHmac('sha256', keyOf(organizationId)).update(value, 'utf8').digest('hex')}`;
}

export type ValueHmac = ReturnType<typeof createValueHmac>;
