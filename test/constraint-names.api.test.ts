import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../src/kernel/db/connect.js';
import { ACCOUNT_CONSTRAINTS } from '../src/modules/accounts/repo.js';
import { CLUSTER_CONSTRAINTS } from '../src/modules/clusters/repo.js';
import { ENVIRONMENT_CONSTRAINTS } from '../src/modules/environments/repo.js';
import { MEMBER_CONSTRAINTS } from '../src/modules/members/repo.js';
import { ORGANIZATION_CONSTRAINTS } from '../src/modules/organizations/repo.js';
import { PROJECT_CONSTRAINTS } from '../src/modules/projects/repo.js';
import { ROLE_CONSTRAINTS } from '../src/modules/roles/repo.js';
import { SERVICE_CONSTRAINTS } from '../src/modules/services/repo.js';
import { TOKEN_CONSTRAINTS } from '../src/modules/tokens/repo.js';
import { VARIABLE_CONSTRAINTS } from '../src/modules/variables/repo.js';
import { openTestDatabase } from './harness.js';

let database: DatabaseHandle;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.close());

// A misspelt name would turn a service's own message into the error handler's generic 409.
describe(`constraint names the repos export (${process.env.COFFER_TEST_BACKEND})`, () => {
  it('each names a constraint or unique index of the migrated schema', async () => {
    const named = [ACCOUNT_CONSTRAINTS, CLUSTER_CONSTRAINTS, ENVIRONMENT_CONSTRAINTS, MEMBER_CONSTRAINTS, ORGANIZATION_CONSTRAINTS,
      PROJECT_CONSTRAINTS, ROLE_CONSTRAINTS, SERVICE_CONSTRAINTS, TOKEN_CONSTRAINTS, VARIABLE_CONSTRAINTS].flatMap((names) => Object.values(names));
    const { rows } = await sql<{ name: string }>`
      select conname as name from pg_constraint
      union select indexname from pg_indexes where schemaname = current_schema()`.execute(database.db);
    const existing = new Set(rows.map((row) => row.name));
    expect(named.filter((name) => !existing.has(name))).toEqual([]);
  });
});
