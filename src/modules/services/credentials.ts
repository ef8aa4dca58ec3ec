import type { ServiceKind } from '../../kernel/db/schema.js';

/** SPEC §3: outputs named password, secret or token are secrets. */
export function isSecretOutput(name: string): boolean {
  return /password|secret|token/i.test(name);
}

const USER_OUTPUT = /^(user|username)$/i;

/**
 * SPEC §2.1: a database's built-in credentials (its secret outputs and its user name) need
 * database:read_credentials. The one rule for resolution, which leaves them out, and for the
 * service's own view, which masks them: a VIEWER never reads a database user either way.
 */
export function isCredentialOutput(kind: ServiceKind, name: string): boolean {
  return kind === 'database' && (isSecretOutput(name) || USER_OUTPUT.test(name));
}
