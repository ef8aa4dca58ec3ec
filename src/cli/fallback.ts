import { hkdfSync } from 'node:crypto';
import fs from 'node:fs';
import { open, seal } from '../kernel/crypto/aead.js';
import { CliError, EXIT } from './api-client.js';

const AAD = 'coffer run fallback v1';

/** The fallback file's key comes from the token: the file alone opens nothing. */
function keyOf(token: string, place: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(token, 'utf8'), Buffer.from(place, 'utf8'), AAD, 32));
}

export function saveFallback(file: string, token: string, place: string, resolutionJson: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, seal(keyOf(token, place), resolutionJson, AAD), { mode: 0o600 });
  fs.renameSync(temporary, file);
}

export function loadFallback(file: string, token: string, place: string): string {
  let sealed: Buffer;
  try {
    sealed = fs.readFileSync(file);
  } catch {
    throw new CliError(`The server is unreachable and there is no fallback file at ${file} yet (one is written after each successful run)`, EXIT.unreachable);
  }
  try {
    return open(keyOf(token, place), sealed, AAD).toString('utf8');
  } catch {
    throw new CliError(`The fallback file ${file} does not open with this token and path (it was written by another, or altered)`, EXIT.unreachable);
  }
}
