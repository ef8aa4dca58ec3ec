import { beforeAll, describe, expect, it } from 'vitest';
import { organizationWith, type Cell, runCell, SEED_000_ROLES, SEED_000_TABLE, table000, ROWS_000 } from '../../../test/fixtures/system-roles.js';

describe('seed 000 default roles: every cell of the table', () => {
  let fixture: Awaited<ReturnType<typeof organizationWith>>;
  beforeAll(async () => {
    fixture = await organizationWith(SEED_000_ROLES);
  });

  it('maps every row of the seed table to an exercise, and nothing else', () => {
    expect(Object.keys(ROWS_000).sort()).toEqual(SEED_000_TABLE.map(([label]) => label).sort());
    expect(SEED_000_TABLE).toHaveLength(18);
  });

  for (const [label] of SEED_000_TABLE) {
    for (const role of SEED_000_ROLES) {
      const expected = table000[label]![role];
      it(`${role}: "${label}" is ${expected === 'yes' ? 'allowed' : 'refused'}`, async () => {
        const cell: Cell = { org: fixture.org, owner: fixture.owner, member: fixture.members[role]!, role, clusterId: '' };
        await runCell(ROWS_000, table000, label, cell);
      });
    }
  }
});
