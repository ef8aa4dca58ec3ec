import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { LocalKeyProvider } from '../kernel/crypto/key-provider.js';
import { decodeRootKey, RootKeyError, stageRootKeyFile, WrongRootKeyError } from '../kernel/crypto/root-key.js';
import { openEmbedded } from '../kernel/db/connect.js';
import { rotateRootKey } from '../modules/variables/rotate-root-key.js';
import { runServer } from '../server.js';
import { rotateRootKeyCommand } from './rotate-root-key-command.js';
import { postgres, silent, dir } from '../../test/fixtures/rotate-root-key.js';

describe.skipIf(postgres)('rotate-root-key on a fresh embedded data directory (bugs found and fixed)', () => {
  /** A new data directory a server has started on once (so it holds the root key check). */
  async function startedDataDir(name: string, rootKey?: Buffer) {
    const data = path.join(dir, name);
    const cfg = () => loadConfig({ PORT: '0', COFFER_DATA_DIR: data, ...(rootKey ? { COFFER_ROOT_KEY: rootKey.toString('base64') } : {}) });
    await (await runServer(cfg(), silent)).close();
    return { data, file: path.join(data, 'root.key'), keyFileConfig: loadConfig({ COFFER_DATA_DIR: data }) };
  }

  // Was a bug: loadRootKey generated a root.key when none was there, even for existing data.
  it('a refused rotation writes no root.key into a directory served with COFFER_ROOT_KEY', async () => {
    const { file, keyFileConfig } = await startedDataDir('served-with-env-key', randomBytes(32));
    expect(fs.existsSync(file)).toBe(false);
    await expect(rotateRootKeyCommand(keyFileConfig, { generate: true }, () => {})).rejects.toThrow(/root\.key is missing/);
    expect(fs.existsSync(file), 'root.key was created by a refused rotation').toBe(false);
  }, 60_000);

  // Was a bug: staging removed root.key.new, the only key that opened the data after a crash
  // between the rotation's commit and the rename. Now the command refuses and names the file.
  it('a rotation retried after a crash between commit and rename keeps root.key.new', async () => {
    const { data, file, keyFileConfig } = await startedDataDir('crashed-rotation');
    const oldKey = decodeRootKey(fs.readFileSync(file, 'utf8'), file);
    const newKey = randomBytes(32);
    // What the command does up to its crash: stage the new key, commit the re-wrap, never rename.
    const staged = stageRootKeyFile(data, newKey);
    const handle = await openEmbedded(data);
    try {
      await rotateRootKey(handle.db, { oldRootKey: oldKey, newRootKey: newKey, oldProvider: new LocalKeyProvider(oldKey), newProvider: new LocalKeyProvider(newKey) });
    } finally {
      await handle.close();
    }
    expect(fs.readFileSync(staged.staged, 'utf8').trim()).toBe(newKey.toString('base64'));
    await expect(runServer(loadConfig({ PORT: '0', COFFER_DATA_DIR: data }), silent)).rejects.toBeInstanceOf(WrongRootKeyError);

    const refusal = rotateRootKeyCommand(keyFileConfig, { generate: true }, () => {});
    await expect(refusal).rejects.toBeInstanceOf(RootKeyError);
    await expect(refusal).rejects.toThrow(/root\.key\.new holds the key this data is under now/);
    expect(fs.existsSync(staged.staged), 'root.key.new, the only key that opens the data, was deleted').toBe(true);
    expect(fs.readFileSync(staged.staged, 'utf8').trim()).toBe(newKey.toString('base64'));
  }, 60_000);
});
