import { beforeAll, describe, expect, it } from 'vitest';
import { server, organizationWith, type Cell, runCell, SEED_003_ROLES, SEED_003_TABLE, table003, ROWS_003 } from '../../../test/fixtures/system-roles.js';

describe('seed 003 system roles: AUDITOR, DEVELOPER, MEMBER and API_USER', () => {
  let fixture: Awaited<ReturnType<typeof organizationWith>>;
  let clusterId: string;
  beforeAll(async () => {
    fixture = await organizationWith(SEED_003_ROLES);
    const token = fixture.owner.token;
    for (const [slug, type] of [
      ['development', 'DEVELOPMENT'],
      ['preview', 'PREVIEW'],
      ['staging', 'STAGING'],
    ]) {
      await server.expect(201, 'POST', `/orgs/${fixture.org}/projects/shop/environments`, { token, payload: { slug, type } });
    }
    clusterId = (await server.expect(201, 'POST', `/orgs/${fixture.org}/clusters`, { token, payload: { name: 'main' } })).body.id;
  });

  it('maps every row of the table to an exercise, and nothing else', () => {
    expect(Object.keys(ROWS_003).sort()).toEqual(SEED_003_TABLE.map(([label]) => label).sort());
  });

  for (const [label] of SEED_003_TABLE) {
    for (const role of SEED_003_ROLES) {
      const expected = table003[label]![role];
      it(`${role}: "${label}" is ${expected === 'yes' ? 'allowed' : 'refused'}`, async () => {
        const cell: Cell = { org: fixture.org, owner: fixture.owner, member: fixture.members[role]!, role, clusterId };
        await runCell(ROWS_003, table003, label, cell);
      });
    }
  }

  it('refuses a DEVELOPER a PRODUCTION environment with 403 naming environment:create, and creates a STAGING one with 201', async () => {
    const { org, members } = fixture;
    const developer = members.DEVELOPER!;
    const production = await server.request('POST', `/orgs/${org}/projects/shop/environments`, {
      token: developer.token,
      payload: { slug: server.slug('prod'), type: 'PRODUCTION' },
    });
    expect(production.status).toBe(403);
    expect(production.body.error).toMatchObject({ code: 'FORBIDDEN', details: { action: 'environment:create' } });
    const slug = server.slug('stage');
    const staging = await server.expect(201, 'POST', `/orgs/${org}/projects/shop/environments`, {
      token: developer.token,
      payload: { slug, type: 'STAGING' },
    });
    expect(staging.body).toMatchObject({ slug, type: 'STAGING' });
  });
});
