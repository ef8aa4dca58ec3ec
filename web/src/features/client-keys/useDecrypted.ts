import { useEffect, useState } from 'react';
import { decryptAt, valueScope } from './api';
import type { UnlockedProject } from './crypto';

interface Listed {
  id: string;
  key: string | null;
  type: string;
  value: string | null;
  scope: string;
  version: number;
  assignee_user_id: string | null;
  encryption?: 'client';
}

export type Decrypted = Map<string, { value: string } | { error: string }>;

/**
 * The plain values of a client-managed listing, decrypted in the page (secrets and files are a
 * placeholder in listings: they are revealed one at a time). Kept in component state only,
 * dropped as soon as the project is locked.
 */
export function useDecryptedListing(items: readonly Listed[] | undefined, opened: UnlockedProject | undefined, ids: { environmentId: string | null; serviceId: string | null } | undefined): Decrypted | undefined {
  const [decrypted, setDecrypted] = useState<{ for: unknown; values: Decrypted } | undefined>(undefined);
  useEffect(() => {
    let current = true;
    if (!opened) {
      // Locked: the clear values go with the key.
      setDecrypted(undefined);
      return;
    }
    if (!items || !ids) return;
    void (async () => {
      const values: Decrypted = new Map();
      for (const v of items) {
        if (v.encryption !== 'client' || v.type !== 'plain' || v.value === null || v.key === null) continue;
        try {
          const scope = valueScope(v.assignee_user_id ? 'member' : v.scope, { ...ids, memberId: v.assignee_user_id });
          values.set(v.id, { value: await decryptAt(opened, v.value, scope, v.key, v.version) });
        } catch (error) {
          values.set(v.id, { error: (error as Error).message });
        }
      }
      if (current) setDecrypted({ for: items, values });
    })();
    return () => {
      current = false;
    };
  }, [items, opened, ids]);
  if (!opened) return undefined;
  return decrypted && decrypted.for === items ? decrypted.values : undefined;
}
