import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DecryptionError, open, seal } from './aead.js';
import type { KeyProvider } from './key-provider.js';

export const ROOT_KEY_FILE = 'root.key';
const ROOT_KEY_BYTES = 32;

/** The root key is missing, unreadable or unsafe; the message says what to do. */
export class RootKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RootKeyError';
  }
}

export interface RootKeySource {
  /** From COFFER_ROOT_KEY, already decoded. */
  rootKey?: Buffer;
  dataDir: string;
  /** True on embedded PGlite, the only case where Coffer may create a key file itself. */
  embedded: boolean;
  /** False once data exists under some key: a missing key file is then an error, never a new key. */
  generate?: boolean;
}

/** The root key: COFFER_ROOT_KEY, else (embedded only) `<dataDir>/root.key`, generated on first start. */
export function loadRootKey(source: RootKeySource, log: (msg: string) => void): Buffer {
  if (source.rootKey !== undefined) {
    if (source.rootKey.length !== ROOT_KEY_BYTES) throw new RootKeyError(`COFFER_ROOT_KEY must be ${ROOT_KEY_BYTES} bytes`);
    return source.rootKey;
  }
  if (!source.embedded) {
    // Every instance on one PostgreSQL must share the key; a file generated per host would not be.
    throw new RootKeyError(
      'COFFER_ROOT_KEY is required with PostgreSQL (DATABASE_URL): set it to 32 random bytes in base64, ' +
        'generated with: openssl rand -base64 32. Keep a copy apart from the database: without it the ' +
        'encrypted variables cannot be recovered.',
    );
  }
  const file = path.join(source.dataDir, ROOT_KEY_FILE);
  const existing = readKeyFile(file);
  if (existing) return existing;
  if (source.generate === false) {
    throw new RootKeyError(`The data was written under a root key, and ${file} is missing: restore it from your backup, or set COFFER_ROOT_KEY`);
  }
  return generateKeyFile(source.dataDir, file, log);
}

function readKeyFile(file: string): Buffer | undefined {
  let text: string;
  let mode: number;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      mode = fs.fstatSync(fd).mode;
      text = fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RootKeyError(`Cannot read the root key file ${file}: ${(error as Error).message}`);
  }
  // POSIX permission bits mean nothing on Windows, where fstat reports 0o666 for every file.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new RootKeyError(
      `The root key file ${file} is accessible to group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); ` +
        `Coffer refuses to use it until only its owner can read it: chmod 600 ${file}`,
    );
  }
  const raw = text.trim();
  const key = Buffer.from(raw, 'base64');
  // Re-encoding catches what Buffer.from silently skips (stray characters, a truncated line).
  if (key.length !== ROOT_KEY_BYTES || key.toString('base64').replace(/=+$/, '') !== raw.replace(/=+$/, '')) {
    // Never echo the contents: a near-miss is still most of a key.
    throw new RootKeyError(
      `The root key file ${file} must hold exactly ${ROOT_KEY_BYTES} bytes encoded as base64 on one line, and does not. ` +
        'Restore the original from your backup: a new key cannot decrypt the existing data.',
    );
  }
  return key;
}

function generateKeyFile(dataDir: string, file: string, log: (msg: string) => void): Buffer {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(ROOT_KEY_BYTES);
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o600);
  } catch (error) {
    // Another process created it between our read and now: theirs is the key.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      const existing = readKeyFile(file);
      if (existing) return existing;
    }
    throw error;
  }
  try {
    fs.writeSync(fd, `${key.toString('base64')}\n`);
    // Values may be sealed moments after this returns; the key must be on disk before they are.
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  syncDirectory(dataDir);
  log(
    `Generated a new root key at ${file} (mode 0600). Back it up somewhere safe, apart from the database: ` +
      'without it the encrypted variables cannot be recovered. To run elsewhere, set COFFER_ROOT_KEY to its contents.',
  );
  return key;
}

function syncDirectory(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the file itself is already synced.
  }
}

/** The configured root key is not the one the stored data was encrypted with. */
export class WrongRootKeyError extends Error {
  constructor() {
    super(
      'The configured root key is not the one this data was encrypted with, so Coffer cannot decrypt any ' +
        'variable and will not start. Set COFFER_ROOT_KEY (or restore root.key in the data directory) to the ' +
        'original key; to change keys, use coffer admin rotate-root-key with both keys.',
    );
    this.name = 'WrongRootKeyError';
  }
}

const CHECK_LABEL = 'coffer root key check v1';

/** A value to store beside the data: it opens only under this root key. */
export function rootKeyCheck(rootKey: Buffer): Buffer {
  return seal(rootKey, CHECK_LABEL, CHECK_LABEL);
}

/** Throws `WrongRootKeyError` unless `check` came from `rootKeyCheck` with this same root key. */
export function verifyRootKeyCheck(rootKey: Buffer, check: Buffer): void {
  let opened: Buffer;
  try {
    opened = open(rootKey, check, CHECK_LABEL);
  } catch (error) {
    if (error instanceof DecryptionError) throw new WrongRootKeyError();
    throw error;
  }
  if (!opened.equals(Buffer.from(CHECK_LABEL, 'utf8'))) throw new WrongRootKeyError();
}

/**
 * Re-wraps every data key from `oldProvider` to `newProvider`, in order; values are untouched
 * because the data keys themselves do not change. Rejects, returning nothing, if any fails.
 */
export async function rotateWrappedKeys(oldProvider: KeyProvider, newProvider: KeyProvider, wrapped: Buffer[]): Promise<Buffer[]> {
  const rewrapped: Buffer[] = [];
  for (const [index, item] of wrapped.entries()) {
    let dataKey: Buffer;
    try {
      dataKey = await oldProvider.unwrap(item);
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
      throw new DecryptionError(`Cannot rotate: data key ${index + 1} of ${wrapped.length} does not unwrap with ${oldProvider.id}`);
    }
    try {
      const next = await newProvider.wrap(dataKey);
      // Proven before the caller commits: a misbehaving new provider must not destroy every data key.
      const roundTrip = await newProvider.unwrap(next);
      const same = roundTrip.equals(dataKey);
      roundTrip.fill(0);
      if (!same) throw new Error(`Cannot rotate: ${newProvider.id} does not unwrap what it wrapped`);
      rewrapped.push(next);
    } finally {
      dataKey.fill(0);
    }
  }
  return rewrapped;
}

/** Decodes a root key given as base64 text (a key file's contents or an env var), or says why not. */
export function decodeRootKey(text: string, source: string): Buffer {
  const raw = text.trim();
  const key = Buffer.from(raw, 'base64');
  if (key.length !== ROOT_KEY_BYTES || key.toString('base64').replace(/=+$/, '') !== raw.replace(/=+$/, '')) {
    throw new RootKeyError(`${source} must hold exactly ${ROOT_KEY_BYTES} bytes encoded as base64 (generate one with: openssl rand -base64 32)`);
  }
  return key;
}

/** A new random root key. */
export function newRootKey(): Buffer {
  return randomBytes(ROOT_KEY_BYTES);
}

/**
 * Replacing `<dataDir>/root.key` in two steps around the rotation's commit: the new key is
 * on disk (`root.key.new`, 0600, synced) before any data depends on it, and takes the
 * file's place only once the data does.
 */
export function stagedRootKeyFile(dataDir: string): string {
  return path.join(dataDir, `${ROOT_KEY_FILE}.new`);
}

/** Reads a staged key left behind, if any (a rotation that stopped between its commit and the rename). */
export function readStagedRootKey(dataDir: string): Buffer | undefined {
  const staged = stagedRootKeyFile(dataDir);
  return fs.existsSync(staged) ? decodeRootKey(fs.readFileSync(staged, 'utf8'), staged) : undefined;
}

/** The caller has made sure no staged key is left that could be the only one opening the data. */
export function stageRootKeyFile(dataDir: string, key: Buffer) {
  const file = path.join(dataDir, ROOT_KEY_FILE);
  const staged = stagedRootKeyFile(dataDir);
  const fd = fs.openSync(staged, 'wx', 0o600);
  try {
    fs.writeSync(fd, `${key.toString('base64')}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return {
    staged,
    commit(): string {
      fs.renameSync(staged, file);
      syncDirectory(dataDir);
      return file;
    },
    abandon(): void {
      fs.rmSync(staged, { force: true });
    },
  };
}
