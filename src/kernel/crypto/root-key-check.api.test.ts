import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/harness.js';
import { WrongRootKeyError } from './root-key.js';
import { ensureRootKeyMatches } from './root-key-check.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.close());

describe('root key check', () => {
  it('records the first root key and refuses another one on a later start', async () => {
    const rootKey = randomBytes(32);
    await ensureRootKeyMatches(database.db, rootKey);
    await ensureRootKeyMatches(database.db, rootKey);
    await expect(ensureRootKeyMatches(database.db, randomBytes(32))).rejects.toBeInstanceOf(WrongRootKeyError);
  });
});
