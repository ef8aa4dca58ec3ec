import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { thrown, useTempDirs } from '../../../test/unit.js';
import { DecryptionError } from './aead.js';
import { type KeyProvider, LocalKeyProvider, newDataKey } from './key-provider.js';
import { loadRootKey, rootKeyCheck, rotateWrappedKeys, RootKeyError, verifyRootKeyCheck, WrongRootKeyError } from './root-key.js';

const tempDir = useTempDirs('coffer-root-key-');

function collect(): { lines: string[]; log: (msg: string) => void } {
  const lines: string[] = [];
  return { lines, log: (msg) => lines.push(msg) };
}

function writeKeyFile(dir: string, contents: string, mode = 0o600): string {
  const file = path.join(dir, 'root.key');
  fs.writeFileSync(file, contents, { mode });
  fs.chmodSync(file, mode);
  return file;
}

const modeOf = (file: string): number => fs.statSync(file).mode & 0o777;
const onPosix = process.platform !== 'win32';

describe('loadRootKey', () => {
  it('uses COFFER_ROOT_KEY when given, touching no file and logging nothing', () => {
    const dataDir = path.join(tempDir(), 'data');
    const rootKey = randomBytes(32);
    const { lines, log } = collect();
    for (const embedded of [true, false]) expect(loadRootKey({ rootKey, dataDir, embedded }, log).equals(rootKey)).toBe(true);
    expect(fs.existsSync(dataDir)).toBe(false);
    expect(lines).toEqual([]);
  });

  it.runIf(onPosix)('generates a 0600 key file in a new 0700 data directory, says where and to back it up', () => {
    const dataDir = path.join(tempDir(), 'data');
    const { lines, log } = collect();
    const key = loadRootKey({ dataDir, embedded: true }, log);
    const file = path.join(dataDir, 'root.key');
    expect(key.length).toBe(32);
    expect(modeOf(dataDir)).toBe(0o700);
    expect(modeOf(file)).toBe(0o600);
    expect(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64').equals(key)).toBe(true);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`Generated a new root key at ${file}`);
    expect(lines[0]).toMatch(/back it up/i);
    expect(lines[0]).not.toContain(key.toString('base64'));
  });

  it('reuses the key file on the next start without logging again', () => {
    const dataDir = tempDir();
    const first = loadRootKey({ dataDir, embedded: true }, () => {});
    const { lines, log } = collect();
    expect(loadRootKey({ dataDir, embedded: true }, log).equals(first)).toBe(true);
    expect(lines).toEqual([]);
  });

  it('reads a key file written by an operator, with or without a trailing newline', () => {
    const key = randomBytes(32);
    for (const contents of [key.toString('base64'), `${key.toString('base64')}\n`]) {
      const dataDir = tempDir();
      writeKeyFile(dataDir, contents);
      expect(loadRootKey({ dataDir, embedded: true }, () => {}).equals(key)).toBe(true);
    }
  });

  it('refuses a key file that is not exactly 32 bytes of base64, without echoing it', () => {
    const short = randomBytes(16).toString('base64');
    const long = randomBytes(33).toString('base64');
    const garbled = `${randomBytes(32).toString('base64').slice(0, 20)}!!${randomBytes(32).toString('base64').slice(22)}`;
    for (const contents of [short, long, garbled, '', 'not a key at all']) {
      const dataDir = tempDir();
      const file = writeKeyFile(dataDir, contents);
      const error = thrown(() => loadRootKey({ dataDir, embedded: true }, () => {}), RootKeyError);
      expect(error.message).toContain(`The root key file ${file} must hold exactly 32 bytes encoded as base64`);
      if (contents !== '') expect(error.message).not.toContain(contents);
    }
  });

  it.runIf(onPosix)('refuses a key file readable by group or others and gives the chmod that fixes it', () => {
    for (const mode of [0o640, 0o604, 0o644, 0o660]) {
      const dataDir = tempDir();
      const file = writeKeyFile(dataDir, randomBytes(32).toString('base64'), mode);
      expect(() => loadRootKey({ dataDir, embedded: true }, () => {})).toThrow(
        `The root key file ${file} is accessible to group or others (mode 0${mode.toString(8)}); ` +
          `Coffer refuses to use it until only its owner can read it: chmod 600 ${file}`,
      );
      fs.chmodSync(file, 0o600);
      expect(loadRootKey({ dataDir, embedded: true }, () => {})).toHaveLength(32);
    }
  });

  it('refuses PostgreSQL without COFFER_ROOT_KEY, saying how to make one, and creates no file', () => {
    const dataDir = path.join(tempDir(), 'data');
    expect(() => loadRootKey({ dataDir, embedded: false }, () => {})).toThrow(RootKeyError);
    expect(() => loadRootKey({ dataDir, embedded: false }, () => {})).toThrow(/COFFER_ROOT_KEY is required with PostgreSQL.*openssl rand -base64 32/s);
    expect(fs.existsSync(dataDir)).toBe(false);
  });
});

describe('root key check', () => {
  it('passes under the key that made it', () => {
    const rootKey = randomBytes(32);
    expect(() => verifyRootKeyCheck(rootKey, rootKeyCheck(rootKey))).not.toThrow();
  });

  it('detects a wrong root key and explains it', () => {
    const check = rootKeyCheck(randomBytes(32));
    const wrong = randomBytes(32);
    expect(() => verifyRootKeyCheck(wrong, check)).toThrow(WrongRootKeyError);
    expect(() => verifyRootKeyCheck(wrong, check)).toThrow(/configured root key is not the one this data was encrypted with/);
  });

  it('treats a damaged check as a wrong key rather than passing', () => {
    const rootKey = randomBytes(32);
    const check = rootKeyCheck(rootKey);
    check[check.length - 1]! ^= 0x80;
    expect(() => verifyRootKeyCheck(rootKey, check)).toThrow(WrongRootKeyError);
  });
});

describe('rotateWrappedKeys', () => {
  it('re-wraps so the new provider alone unwraps the same data keys', async () => {
    const oldProvider = new LocalKeyProvider(randomBytes(32));
    const newProvider = new LocalKeyProvider(randomBytes(32));
    const dataKeys = Array.from({ length: 5 }, newDataKey);
    const wrapped = await Promise.all(dataKeys.map((key) => oldProvider.wrap(key)));
    const rotated = await rotateWrappedKeys(oldProvider, newProvider, wrapped);
    expect(rotated).toHaveLength(5);
    for (const [index, item] of rotated.entries()) {
      expect((await newProvider.unwrap(item)).equals(dataKeys[index]!)).toBe(true);
      await expect(oldProvider.unwrap(item)).rejects.toBeInstanceOf(DecryptionError);
    }
  });

  it('rejects when a data key does not unwrap with the old provider, naming which one', async () => {
    const oldProvider = new LocalKeyProvider(randomBytes(32));
    const stranger = new LocalKeyProvider(randomBytes(32));
    const wrapped = [await oldProvider.wrap(newDataKey()), await stranger.wrap(newDataKey())];
    await expect(rotateWrappedKeys(oldProvider, new LocalKeyProvider(randomBytes(32)), wrapped)).rejects.toThrow(
      `data key 2 of 2 does not unwrap with ${oldProvider.id}`,
    );
  });

  it('rejects a new provider that cannot unwrap what it wrapped', async () => {
    const oldProvider = new LocalKeyProvider(randomBytes(32));
    const broken: KeyProvider = { id: 'broken', wrap: async () => randomBytes(61), unwrap: async () => randomBytes(32) };
    const wrapped = [await oldProvider.wrap(newDataKey())];
    await expect(rotateWrappedKeys(oldProvider, broken, wrapped)).rejects.toThrow('broken does not unwrap what it wrapped');
  });

  it('returns nothing for nothing', async () => {
    const provider = new LocalKeyProvider(randomBytes(32));
    expect(await rotateWrappedKeys(provider, provider, [])).toEqual([]);
  });
});
