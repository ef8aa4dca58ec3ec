import type { VariableType } from '../../kernel/db/schema.js';
import { maskSecret } from '../../kernel/mask.js';
import { shownClientValue } from './client-values.js';
import type { PgServiceDefinition } from './pg-service.js';
import { isConcealed } from './rules.js';

/**
 * A pg_service entry is always a secret (SPEC §3): only what names it (the service) and what
 * says nothing about where or as whom it connects (port, sslmode) is shown in clear.
 */
export function maskPgService(definition: PgServiceDefinition) {
  const { service, port, sslmode, extra, ...concealed } = definition;
  return {
    service,
    ...(port !== undefined ? { port } : {}),
    ...(sslmode !== undefined ? { sslmode } : {}),
    ...Object.fromEntries(Object.entries(concealed).flatMap(([name, value]) => (typeof value === 'string' ? [[name, maskSecret(value)]] : []))),
    extra: Object.fromEntries(Object.entries(extra ?? {}).map(([name, value]) => [name, maskSecret(value)])),
  };
}

/** What a listing shows of a value: plain in clear, everything else masked (SPEC §3); client ciphertext as client-values.ts says. */
export function shownValue(type: VariableType, plaintext: string | null, client = false) {
  if (client) return { ...shownClientValue(type, plaintext), encryption: 'client' as const };
  if (plaintext === null) return { value: null };
  if (type === 'pg_service') return { value: null, pg_service: maskPgService(JSON.parse(plaintext) as PgServiceDefinition) };
  return { value: isConcealed(type) ? maskSecret(plaintext) : plaintext };
}

