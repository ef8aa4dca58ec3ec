import { open, valueAad } from '../../kernel/crypto/aead.js';
import { AppError } from '../../kernel/errors.js';

/**
 * Opens one stored version of a variable's value. A failure names the variable and version,
 * never the value: the row was altered, or its ciphertext moved from another row or version.
 */
export function openValue(key: Buffer, variable: { id: string; name: string }, version: number, ciphertext: Buffer): string {
  try {
    return open(key, ciphertext, valueAad(variable.id, version)).toString('utf8');
  } catch {
    throw new AppError('DECRYPTION_FAILED', `The stored value of ${variable.name} (version ${version}) does not decrypt: it was altered or copied from another variable`);
  }
}
