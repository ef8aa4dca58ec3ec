import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalKeyProvider, type KeyProvider } from '../kernel/crypto/key-provider.js';
import { decodeRootKey, RootKeyError, WrongRootKeyError } from '../kernel/crypto/root-key.js';
import { DataDirLockedError } from '../kernel/db/data-dir-lock.js';
import { rotateRootKey } from '../modules/variables/rotate-root-key.js';
import { runServer } from '../server.js';
import { rotateRootKeyCommand } from './rotate-root-key-command.js';
import { postgres, silent, dir, keyFile, database, currentKey, config, currentConfig, withDb, snapshot, keyFileText, resolveWith, expectEarlierAuditStillValid, expectedValues, expectNothingChanged, countingUpdates, setCurrentKey } from '../../test/fixtures/rotate-root-key.js';

describe(`rotate-root-key (${postgres ? 'PostgreSQL' : 'embedded PGlite'})`, () => {
  it('starts from data a server wrote: one data key per project and one for the organization', async () => {
    const state = await snapshot();
    expect(state.keys).toHaveLength(3);
    expect(new Set(state.keys.map((k) => k.provider))).toEqual(new Set([new LocalKeyProvider(currentKey).id]));
    expect(await resolveWith(currentConfig())).toEqual(expectedValues());
  }, 60_000);

  describe('refusals change nothing', () => {
    it('wants the new key given exactly one way', async () => {
      const print: string[] = [];
      const other = randomBytes(32).toString('base64');
      const newKeyFile = path.join(dir, 'one.key');
      fs.writeFileSync(newKeyFile, `${other}\n`, { mode: 0o600 });
      const attempts = [{}, { generate: false }, { newKey: other, generate: true }, { newKey: other, newKeyFile }, { newKeyFile, generate: true }];
      const errors = await expectNothingChanged(...attempts.map((options) => () => rotateRootKeyCommand(currentConfig(), options, (line) => print.push(line))));
      for (const error of errors) {
        expect(error.message).toMatch(/exactly one way/);
        expect(error.message).toContain('--new-key-file');
      }
      expect(print).toEqual([]);
    });

    it('refuses --generate when root.key is not the key in use (DATABASE_URL or COFFER_ROOT_KEY set)', async () => {
      const withUrl = postgres ? currentConfig() : config(undefined, { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/never' });
      // Embedded, but with the key given by COFFER_ROOT_KEY: there is no key file to replace either.
      const withKey = postgres ? currentConfig() : config(currentKey);
      const [error, again] = await expectNothingChanged(
        () => rotateRootKeyCommand(withUrl, { generate: true }, () => {}),
        () => rotateRootKeyCommand(withKey, { generate: true }, () => {}),
      );
      expect(error!.message).toContain('--new-key-file');
      expect(error!.message).toContain('DATABASE_URL');
      expect(again!.message).toContain('--new-key-file');
    });

    it.skipIf(!postgres)('refuses while a server runs on the database (it would wrap new data keys under the old key)', async () => {
      const running = await runServer(currentConfig(), silent);
      try {
        const [error] = await expectNothingChanged(() => rotateRootKeyCommand(currentConfig(), { newKey: randomBytes(32).toString('base64') }, () => {}));
        expect(error!.message).toMatch(/Coffer server is running on this database: stop every one/);
      } finally {
        await running.close();
      }
    }, 60_000);

    it('refuses a malformed new key file, naming the file and not echoing its contents', async () => {
      const cases = {
        short: randomBytes(31).toString('base64'),
        long: randomBytes(33).toString('base64'),
        stray: `${randomBytes(32).toString('base64')}#x`,
        text: 'hunter2-not-a-key-at-all-9f8e7d6c5b4a',
        twoLines: `${randomBytes(32).toString('base64')}\n${randomBytes(32).toString('base64')}\n`,
      };
      const files = Object.keys(cases).map((name) => path.join(dir, `malformed-${name}.key`));
      for (const [index, contents] of Object.values(cases).entries()) fs.writeFileSync(files[index]!, contents, { mode: 0o600 });
      const missing = path.join(dir, 'missing.key');
      const errors = await expectNothingChanged(
        ...files.map((file) => () => rotateRootKeyCommand(currentConfig(), { newKeyFile: file }, () => {})),
        // The same rules for COFFER_NEW_ROOT_KEY, named as such.
        () => rotateRootKeyCommand(currentConfig(), { newKey: cases.short }, () => {}),
        // A file that does not exist is named too.
        () => rotateRootKeyCommand(currentConfig(), { newKeyFile: missing }, () => {}),
      );
      for (const [index, [name, contents]] of Object.entries(cases).entries()) {
        const file = files[index]!;
        const error = errors[index]!;
        expect(error, name).toBeInstanceOf(RootKeyError);
        expect(error.message, name).toContain(file);
        for (const line of contents.split('\n').filter((l) => l !== '')) {
          expect(error.message, name).not.toContain(line);
          expect(error.message, name).not.toContain(line.slice(0, 16));
        }
      }
      const fromEnv = errors[files.length]!;
      expect(fromEnv).toBeInstanceOf(RootKeyError);
      expect(fromEnv.message).toContain('COFFER_NEW_ROOT_KEY');
      expect(fromEnv.message).not.toContain(cases.short.slice(0, 16));
      expect(errors[files.length + 1]!.message).toContain(missing);
    });

    it('refuses the current key as the new one', async () => {
      const file = path.join(dir, 'same.key');
      fs.writeFileSync(file, `${currentKey.toString('base64')}\n`, { mode: 0o600 });
      const errors = await expectNothingChanged(
        ...[{ newKey: currentKey.toString('base64') }, { newKeyFile: file }].map((options) => () => rotateRootKeyCommand(currentConfig(), options, () => {})),
      );
      for (const error of errors) {
        expect(error.message).toMatch(/new root key is the current one/);
        expect(error.message).not.toContain(currentKey.toString('base64'));
      }
    });

    it('refuses a wrong old key with WrongRootKeyError, leaving every wrapped key as it was', async () => {
      // COFFER_ROOT_KEY that is not the data's (on PGlite it overrides root.key).
      const [error] = await expectNothingChanged(() => rotateRootKeyCommand(config(randomBytes(32)), { newKey: randomBytes(32).toString('base64') }, () => {}));
      expect(error).toBeInstanceOf(WrongRootKeyError);
    });

    it.skipIf(postgres)('on PGlite, a root.key that is not the data\'s refuses --generate and leaves no staged key behind', async () => {
      const original = fs.readFileSync(keyFile, 'utf8');
      fs.writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
      try {
        const before = await snapshot();
        await expect(rotateRootKeyCommand(currentConfig(), { generate: true }, () => {})).rejects.toBeInstanceOf(WrongRootKeyError);
        expect(await snapshot()).toEqual(before);
        expect(fs.existsSync(`${keyFile}.new`)).toBe(false);
      } finally {
        fs.writeFileSync(keyFile, original, { mode: 0o600 });
      }
      expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    });

    it.skipIf(postgres)('on PGlite, refuses while a server holds the data directory', async () => {
      const running = await runServer(currentConfig(), silent);
      try {
        await expect(rotateRootKeyCommand(currentConfig(), { generate: true }, () => {})).rejects.toBeInstanceOf(DataDirLockedError);
        expect(fs.existsSync(`${keyFile}.new`)).toBe(false);
      } finally {
        await running.close();
      }
      expect(keyFileText().trim()).toBe(currentKey.toString('base64'));
    }, 60_000);
  });

  describe('atomicity', () => {
    /** Wraps with a real provider, but throws on wrap call number `failAt`. */
    function failingProvider(rootKey: Buffer, failAt: number): KeyProvider & { wraps: number } {
      const inner = new LocalKeyProvider(rootKey);
      return {
        id: 'test:failing',
        wraps: 0,
        async wrap(dataKey: Buffer) {
          this.wraps++;
          if (this.wraps === failAt) throw new Error('simulated provider failure');
          return inner.wrap(dataKey);
        },
        unwrap: (wrapped: Buffer) => inner.unwrap(wrapped),
      };
    }

    it('re-wraps nothing when the new provider fails on the second data key', async () => {
      const newKey = randomBytes(32);
      const provider = failingProvider(newKey, 2);
      const [error] = await expectNothingChanged(() =>
        withDb((db) => rotateRootKey(db, { oldRootKey: currentKey, newRootKey: newKey, oldProvider: new LocalKeyProvider(currentKey), newProvider: provider })),
      );
      expect(error!.message).toBe('simulated provider failure');
      expect(provider.wraps).toBe(2);
    });

    it('re-wraps nothing when the new provider does not give back what it wrapped', async () => {
      const newKey = randomBytes(32);
      const inner = new LocalKeyProvider(newKey);
      let unwraps = 0;
      const lying: KeyProvider = {
        id: 'test:lying',
        wrap: (dataKey) => inner.wrap(dataKey),
        // The first round trip is true, the second one is not.
        unwrap: async (wrapped) => (++unwraps === 2 ? randomBytes(32) : inner.unwrap(wrapped)),
      };
      const [error] = await expectNothingChanged(() =>
        withDb((db) => rotateRootKey(db, { oldRootKey: currentKey, newRootKey: newKey, oldProvider: new LocalKeyProvider(currentKey), newProvider: lying })),
      );
      expect(error!.message).toMatch(/does not unwrap what it wrapped/);
    });

    it('rolls back the re-wrapped keys when recording the new check fails after them', async () => {
      // Every data key re-wraps and is written; sealing the check with a 31-byte "key" then throws inside the transaction.
      const newKey = randomBytes(32);
      let updates = 0;
      const [error] = await expectNothingChanged(() =>
        withDb(async (db) => {
          const counting = countingUpdates(db);
          try {
            return await rotateRootKey(counting.db, {
              oldRootKey: currentKey,
              newRootKey: randomBytes(31),
              oldProvider: new LocalKeyProvider(currentKey),
              newProvider: new LocalKeyProvider(newKey),
            });
          } finally {
            updates = counting.counter.updates;
          }
        }),
      );
      expect(error).toBeInstanceOf(RangeError);
      // The three data keys and the audit log's two keys had been updated inside the transaction before it failed.
      expect(updates).toBe(3 + 2);
      // And the data is still served with the old key.
      expect(await resolveWith(currentConfig())).toEqual(expectedValues());
    }, 60_000);
  });

  describe('rotation', () => {
    it('re-wraps every data key, leaves values untouched, and the server then starts with the new key only', async () => {
      const before = await snapshot();
      const oldKey = currentKey;
      const printed: string[] = [];
      let newKey: Buffer;
      if (postgres) {
        newKey = randomBytes(32);
        expect(await rotateRootKeyCommand(config(oldKey), { newKey: newKey.toString('base64') }, (line) => printed.push(line))).toBe(3);
      } else {
        expect(await rotateRootKeyCommand(config(), { generate: true }, (line) => printed.push(line))).toBe(3);
        // root.key now holds the new key, still readable by its owner only, with nothing staged left over.
        newKey = decodeRootKey(fs.readFileSync(keyFile, 'utf8'), keyFile);
        expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
        expect(fs.existsSync(`${keyFile}.new`)).toBe(false);
      }
      expect(newKey.equals(oldKey)).toBe(false);
      setCurrentKey(newKey);

      const newId = new LocalKeyProvider(newKey).id;
      expect(printed[0]).toMatch(/^Re-wrapped 3 data keys under the new root key/);
      expect(printed[0]).toContain(newId);
      expect(printed.join('\n')).not.toContain(newKey.toString('base64'));
      expect(printed.join('\n')).not.toContain(oldKey.toString('base64'));
      if (postgres) {
        expect(printed[1]).toMatch(/COFFER_ROOT_KEY/);
        expect(printed.join('\n')).not.toContain(database!.url!);
      } else {
        expect(printed[1]).toContain(keyFile);
      }

      const after = await snapshot();
      expect(after.keys.map((k) => k.id)).toEqual(before.keys.map((k) => k.id));
      for (const [index, key] of after.keys.entries()) {
        expect(key.wrapped).not.toBe(before.keys[index]!.wrapped);
        expect(key.provider).toBe(newId);
        expect(key.rotated).toBe(true);
        // The same data key, wrapped anew.
        const oldUnwrapped = await new LocalKeyProvider(oldKey).unwrap(Buffer.from(before.keys[index]!.wrapped, 'hex'));
        const newUnwrapped = await new LocalKeyProvider(newKey).unwrap(Buffer.from(key.wrapped, 'hex'));
        expect(newUnwrapped.equals(oldUnwrapped)).toBe(true);
      }
      // Values (current and every version) are not re-encrypted.
      expect(after.ciphertexts).toEqual(before.ciphertexts);
      expect(after.check).not.toBe(before.check);

      expect(await resolveWith(config(postgres ? newKey : undefined))).toEqual(expectedValues());
      await expect(runServer(config(oldKey), silent)).rejects.toBeInstanceOf(WrongRootKeyError);
      // The refused start left the data as it was.
      expect(await snapshot()).toEqual(after);

      // The audit log's keys were re-wrapped, not replaced: what an auditor saved before still holds.
      expect(after.auditKeys.map((k) => k.name)).toEqual(before.auditKeys.map((k) => k.name));
      for (const [index, key] of after.auditKeys.entries()) expect(key.wrapped).not.toBe(before.auditKeys[index]!.wrapped);
      await expectEarlierAuditStillValid(config(postgres ? newKey : undefined));
    }, 120_000);

    it('rotates again from a key file, and the server follows', async () => {
      const previous = currentKey;
      const newKey = randomBytes(32);
      const file = path.join(dir, 'next.key');
      fs.writeFileSync(file, `${newKey.toString('base64')}\n`, { mode: 0o600 });
      const printed: string[] = [];
      expect(await rotateRootKeyCommand(currentConfig(), { newKeyFile: file }, (line) => printed.push(line))).toBe(3);
      expect(printed[0]).toMatch(/^Re-wrapped 3 data keys/);
      setCurrentKey(newKey);
      if (!postgres) {
        // On the embedded database root.key is the key in use, so it is replaced too.
        expect(fs.readFileSync(keyFile, 'utf8').trim()).toBe(newKey.toString('base64'));
      }
      expect(await resolveWith(currentConfig())).toEqual(expectedValues());
      await expect(runServer(config(previous), silent)).rejects.toBeInstanceOf(WrongRootKeyError);
      await expectEarlierAuditStillValid(currentConfig());
    }, 120_000);
  });
});
