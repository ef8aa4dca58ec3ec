import { beforeAll, describe, expect, it } from 'vitest';
import { type Response, useTestServer } from '../../../test/harness.js';

/**
 * Seed 000's "Default Roles" table is the test oracle for the first five system roles
 * (SPEC §2.2): every cell runs, through our route when there is one and through
 * POST /orgs/{org}/authz/check (asking about oneself) when there is none.
 */

type YesNo = 'yes' | 'no';
type Role = string;

const server = useTestServer();

interface Member {
  token: string;
  id: string;
  email: string;
}

/** An organization whose OWNER built shop/production/backend, with one member per listed role. */
async function organizationWith(roles: readonly Role[]) {
  const { owner, org } = await server.tree('owner');
  const members: Record<Role, Member> = { OWNER: owner };
  for (const role of roles) {
    if (role === 'OWNER') continue;
    const user = await server.user(role.toLowerCase());
    await server.join(owner.token, org, user, role);
    members[role] = user;
  }
  return { owner, org, members };
}

/** What a cell runs against: the shared organization and the member holding the role. */
interface Cell {
  org: string;
  owner: Member;
  member: Member;
  role: Role;
  /** A cluster of the organization, made by its OWNER. */
  clusterId: string;
}

/** How a row is exercised: a real route (with the action a refusal names) or an authz/check question. */
type Exercise =
  | { kind: 'route'; action: string; run: (cell: Cell) => Promise<Response> }
  | { kind: 'check'; action: string; resource?: string };

interface Row {
  exercise: Exercise;
  /** The row that says whether the role may see the resource: when it may not, a refusal is a 404. */
  readRow: string;
}

function check(cell: Cell, action: string, resource?: string) {
  return server.request('POST', `/orgs/${cell.org}/authz/check`, {
    token: cell.member.token,
    payload: resource === undefined ? { action } : { action, resource },
  });
}

/** Runs one cell and asserts the seed's yes/no, with 404 for what the role cannot even see. */
async function runCell(rows: Record<string, Row>, table: Record<string, Record<Role, YesNo>>, label: string, cell: Cell) {
  const row = rows[label]!;
  const expected = table[label]![cell.role];
  const visible = table[row.readRow]![cell.role] === 'yes';
  const { exercise } = row;
  if (exercise.kind === 'route') {
    const response = await exercise.run(cell);
    if (expected === 'yes') {
      expect(response.status, JSON.stringify(response.body)).toBeGreaterThanOrEqual(200);
      expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);
    } else if (visible) {
      expect(response.status, JSON.stringify(response.body)).toBe(403);
      expect(response.body.error.details.action).toBe(exercise.action);
    } else {
      expect(response.status, JSON.stringify(response.body)).toBe(404);
    }
    return;
  }
  const response = await check(cell, exercise.action, exercise.resource);
  if (expected === 'no' && !visible) {
    // The asker cannot see the resource either: the answer must not reveal it exists.
    expect(response.status, JSON.stringify(response.body)).toBe(404);
    return;
  }
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  // Granted or not, the reason names the member's own system role.
  expect(response.body).toEqual({
    allowed: expected === 'yes',
    user_id: cell.member.id,
    reason: expect.stringContaining(`system role ${cell.role}`),
  });
  if (expected === 'yes') expect(response.body.reason).toMatch(/^granted by system role /);
}

// ---------------------------------------------------------------------------------------
// Seed 000: Owner, Admin, DevOps, Billing Manager, Viewer.

const SEED_000_ROLES = ['OWNER', 'ADMIN', 'DEVOPS', 'BILLING_MANAGER', 'VIEWER'] as const;

/** The seed's table, copied row by row: Owner, Admin, DevOps, Billing Manager, Viewer. */
const SEED_000_TABLE: ReadonlyArray<readonly [string, YesNo, YesNo, YesNo, YesNo, YesNo]> = [
  ['Read organization', 'yes', 'yes', 'yes', 'yes', 'yes'],
  ['Edit organization', 'yes', 'yes', 'no', 'no', 'no'],
  ['Delete organization', 'yes', 'no', 'no', 'no', 'no'],
  ['Manage billing', 'yes', 'yes', 'no', 'yes', 'no'],
  ['Manage members & roles', 'yes', 'yes', 'no', 'no', 'no'],
  ['Manage cluster & container registry', 'yes', 'yes', 'yes', 'no', 'no'],
  ['Manage organization setup', 'yes', 'yes', 'yes', 'no', 'no'],
  ['Read ANY project', 'yes', 'yes', 'yes', 'no', 'yes'],
  ['Edit/Delete ANY project', 'yes', 'yes', 'no', 'no', 'no'],
  ['Create project', 'yes', 'yes', 'no', 'no', 'no'],
  ['Read ANY environment', 'yes', 'yes', 'yes', 'no', 'yes'],
  ['Edit/Delete ANY environment or service', 'yes', 'yes', 'no', 'no', 'no'],
  ['Create environment or service', 'yes', 'yes', 'no', 'no', 'no'],
  ['Add/Edit/Delete environment variables and secrets', 'yes', 'yes', 'yes', 'no', 'no'],
  ['Deploy/Stop ANY environment or service', 'yes', 'yes', 'yes', 'no', 'no'],
  ['Connect via shell to ANY application', 'yes', 'yes', 'yes', 'no', 'no'],
  ['View audit logs', 'yes', 'yes', 'no', 'no', 'no'],
  ['Manage API tokens', 'yes', 'yes', 'no', 'no', 'no'],
];

const table000 = Object.fromEntries(
  SEED_000_TABLE.map(([label, ...values]) => [label, Object.fromEntries(SEED_000_ROLES.map((role, i) => [role, values[i]!]))]),
) as Record<string, Record<Role, YesNo>>;

const env = (org: string) => `/orgs/${org}/projects/shop/environments/production`;

const ROWS_000: Record<string, Row> = {
  'Read organization': {
    readRow: 'Read organization',
    exercise: { kind: 'route', action: 'organization:read', run: (c) => server.request('GET', `/orgs/${c.org}`, { token: c.member.token }) },
  },
  'Edit organization': {
    readRow: 'Read organization',
    exercise: {
      kind: 'route',
      action: 'organization:write',
      run: (c) => server.request('PATCH', `/orgs/${c.org}`, { token: c.member.token, payload: { name: `Renamed by ${c.role}` } }),
    },
  },
  'Delete organization': {
    readRow: 'Read organization',
    exercise: {
      kind: 'route',
      action: 'organization:delete',
      // A disposable organization per cell, so a deletion never breaks another cell.
      run: async (c) => {
        const org = server.slug('doomed');
        await server.expect(201, 'POST', '/orgs', { token: c.owner.token, payload: { slug: org } });
        if (c.role !== 'OWNER') await server.join(c.owner.token, org, c.member, c.role);
        const response = await server.request('DELETE', `/orgs/${org}`, { token: c.member.token });
        const after = await server.request('GET', `/orgs/${org}`, { token: c.owner.token });
        expect(after.status).toBe(response.status === 204 ? 404 : 200);
        return response;
      },
    },
  },
  'Manage billing': { readRow: 'Read organization', exercise: { kind: 'check', action: 'billing:manage' } },
  'Manage members & roles': {
    readRow: 'Read organization',
    exercise: {
      kind: 'route',
      action: 'member:manage',
      run: (c) => server.request('POST', `/orgs/${c.org}/roles`, { token: c.member.token, payload: { name: server.slug('role') } }),
    },
  },
  'Manage cluster & container registry': {
    readRow: 'Read organization',
    exercise: {
      kind: 'route',
      action: 'cluster:manage',
      run: (c) => server.request('POST', `/orgs/${c.org}/clusters`, { token: c.member.token, payload: { name: server.slug('cluster') } }),
    },
  },
  'Manage organization setup': { readRow: 'Read organization', exercise: { kind: 'check', action: 'organization:setup' } },
  'Read ANY project': {
    readRow: 'Read ANY project',
    exercise: { kind: 'route', action: 'project:read', run: (c) => server.request('GET', `/orgs/${c.org}/projects/shop`, { token: c.member.token }) },
  },
  'Edit/Delete ANY project': {
    readRow: 'Read ANY project',
    exercise: {
      kind: 'route',
      action: 'project:write',
      run: (c) =>
        server.request('PATCH', `/orgs/${c.org}/projects/shop`, { token: c.member.token, payload: { description: `Edited by ${c.role}` } }),
    },
  },
  'Create project': {
    readRow: 'Read organization',
    exercise: {
      kind: 'route',
      action: 'project:create',
      run: (c) => server.request('POST', `/orgs/${c.org}/projects`, { token: c.member.token, payload: { slug: server.slug('project') } }),
    },
  },
  'Read ANY environment': {
    readRow: 'Read ANY environment',
    exercise: { kind: 'route', action: 'environment:read', run: (c) => server.request('GET', env(c.org), { token: c.member.token }) },
  },
  'Edit/Delete ANY environment or service': {
    readRow: 'Read ANY environment',
    exercise: {
      kind: 'route',
      action: 'environment:write',
      run: (c) => server.request('PATCH', env(c.org), { token: c.member.token, payload: { name: `Production (${c.role})` } }),
    },
  },
  'Create environment or service': {
    readRow: 'Read ANY environment',
    exercise: {
      kind: 'route',
      action: 'service:create',
      run: (c) =>
        server.request('POST', `${env(c.org)}/services`, {
          token: c.member.token,
          payload: { slug: server.slug('svc'), kind: 'application' },
        }),
    },
  },
  'Add/Edit/Delete environment variables and secrets': {
    readRow: 'Read ANY environment',
    exercise: { kind: 'check', action: 'secret:write', resource: 'shop/production' },
  },
  'Deploy/Stop ANY environment or service': {
    readRow: 'Read ANY environment',
    exercise: { kind: 'check', action: 'deployment:trigger', resource: 'shop/production' },
  },
  'Connect via shell to ANY application': {
    readRow: 'Read ANY environment',
    exercise: { kind: 'check', action: 'shell:connect', resource: 'shop/production' },
  },
  'View audit logs': { readRow: 'Read organization', exercise: { kind: 'check', action: 'audit:read' } },
  'Manage API tokens': { readRow: 'Read organization', exercise: { kind: 'check', action: 'token:manage' } },
};

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

// ---------------------------------------------------------------------------------------
// Seed 003: Auditor, Developer, Member, API User, as SPEC §2.2 defines them.

const SEED_003_ROLES = ['AUDITOR', 'DEVELOPER', 'MEMBER', 'API_USER'] as const;

/** SPEC §2.2, cell by cell: Auditor, Developer, Member, API User. */
const SEED_003_TABLE: ReadonlyArray<readonly [string, YesNo, YesNo, YesNo, YesNo]> = [
  ['Read organization', 'yes', 'yes', 'yes', 'yes'],
  ['Read a cluster', 'yes', 'yes', 'yes', 'no'],
  ['Read ANY project', 'yes', 'yes', 'yes', 'yes'],
  ['Read ANY environment', 'yes', 'yes', 'yes', 'yes'],
  ['Edit/Delete ANY project', 'no', 'no', 'no', 'no'],
  ['Create project', 'no', 'no', 'no', 'no'],
  ['Manage members & roles', 'no', 'no', 'no', 'no'],
  ['Manage cluster & container registry', 'no', 'no', 'no', 'no'],
  ['Create a DEVELOPMENT environment', 'no', 'yes', 'no', 'no'],
  ['Create a STAGING environment', 'no', 'yes', 'no', 'no'],
  ['Create a PRODUCTION environment', 'no', 'no', 'no', 'no'],
  ['Edit a STAGING environment', 'no', 'yes', 'no', 'no'],
  ['Edit a PRODUCTION environment', 'no', 'no', 'no', 'no'],
  ['Create a service in STAGING', 'no', 'yes', 'no', 'no'],
  ['Create a service in PRODUCTION', 'no', 'no', 'no', 'no'],
  ['List masked variables in PRODUCTION', 'yes', 'yes', 'yes', 'yes'],
  ['Write variables in DEVELOPMENT', 'no', 'yes', 'yes', 'no'],
  ['Write variables in PREVIEW', 'no', 'yes', 'yes', 'no'],
  ['Write variables in STAGING', 'no', 'yes', 'no', 'no'],
  ['Write variables in PRODUCTION', 'no', 'no', 'no', 'no'],
  ['Decrypt secrets in DEVELOPMENT', 'no', 'yes', 'yes', 'yes'],
  ['Decrypt secrets in PREVIEW', 'no', 'yes', 'yes', 'yes'],
  ['Decrypt secrets in STAGING', 'no', 'yes', 'no', 'yes'],
  ['Decrypt secrets in PRODUCTION', 'no', 'no', 'no', 'yes'],
  ['Deploy DEVELOPMENT', 'no', 'yes', 'yes', 'no'],
  ['Deploy STAGING', 'no', 'yes', 'no', 'no'],
  ['Deploy PRODUCTION', 'no', 'no', 'no', 'no'],
  ['Connect via shell in STAGING', 'no', 'yes', 'no', 'no'],
  ['Stream logs in PREVIEW', 'no', 'yes', 'yes', 'no'],
  ['View audit logs', 'yes', 'no', 'no', 'no'],
  ['Ask what another principal may do', 'yes', 'no', 'no', 'no'],
  ['Manage API tokens', 'no', 'no', 'no', 'no'],
];

const table003 = Object.fromEntries(
  SEED_003_TABLE.map(([label, ...values]) => [label, Object.fromEntries(SEED_003_ROLES.map((role, i) => [role, values[i]!]))]),
) as Record<string, Record<Role, YesNo>>;

const envOf = (org: string, slug: string) => `/orgs/${org}/projects/shop/environments/${slug}`;

function createEnvironment(type: string): Row {
  return {
    readRow: 'Read ANY project',
    exercise: {
      kind: 'route',
      action: 'environment:create',
      run: (c) =>
        server.request('POST', `/orgs/${c.org}/projects/shop/environments`, {
          token: c.member.token,
          payload: { slug: server.slug(type.toLowerCase()), type },
        }),
    },
  };
}

function editEnvironment(slug: string): Row {
  return {
    readRow: 'Read ANY environment',
    exercise: {
      kind: 'route',
      action: 'environment:write',
      run: (c) => server.request('PATCH', envOf(c.org, slug), { token: c.member.token, payload: { name: `${slug} (${c.role})` } }),
    },
  };
}

function createService(slug: string): Row {
  return {
    readRow: 'Read ANY environment',
    exercise: {
      kind: 'route',
      action: 'service:create',
      run: (c) =>
        server.request('POST', `${envOf(c.org, slug)}/services`, {
          token: c.member.token,
          payload: { slug: server.slug('svc'), kind: 'application' },
        }),
    },
  };
}

const onEnvironment = (action: string, slug: string): Row => ({
  readRow: 'Read ANY environment',
  exercise: { kind: 'check', action, resource: `shop/${slug}` },
});

const ROWS_003: Record<string, Row> = {
  'Read organization': ROWS_000['Read organization']!,
  'Read a cluster': {
    readRow: 'Read a cluster',
    exercise: {
      kind: 'route',
      action: 'cluster:read',
      run: (c) => server.request('GET', `/orgs/${c.org}/clusters/${c.clusterId}`, { token: c.member.token }),
    },
  },
  'Read ANY project': ROWS_000['Read ANY project']!,
  'Read ANY environment': ROWS_000['Read ANY environment']!,
  'Edit/Delete ANY project': ROWS_000['Edit/Delete ANY project']!,
  'Create project': ROWS_000['Create project']!,
  'Manage members & roles': ROWS_000['Manage members & roles']!,
  'Manage cluster & container registry': ROWS_000['Manage cluster & container registry']!,
  'Create a DEVELOPMENT environment': createEnvironment('DEVELOPMENT'),
  'Create a STAGING environment': createEnvironment('STAGING'),
  'Create a PRODUCTION environment': createEnvironment('PRODUCTION'),
  'Edit a STAGING environment': editEnvironment('staging'),
  'Edit a PRODUCTION environment': editEnvironment('production'),
  'Create a service in STAGING': createService('staging'),
  'Create a service in PRODUCTION': createService('production'),
  'List masked variables in PRODUCTION': onEnvironment('secret:read', 'production'),
  'Write variables in DEVELOPMENT': onEnvironment('secret:write', 'development'),
  'Write variables in PREVIEW': onEnvironment('secret:write', 'preview'),
  'Write variables in STAGING': onEnvironment('secret:write', 'staging'),
  'Write variables in PRODUCTION': onEnvironment('secret:write', 'production'),
  'Decrypt secrets in DEVELOPMENT': onEnvironment('secret:decrypt', 'development'),
  'Decrypt secrets in PREVIEW': onEnvironment('secret:decrypt', 'preview'),
  'Decrypt secrets in STAGING': onEnvironment('secret:decrypt', 'staging'),
  'Decrypt secrets in PRODUCTION': onEnvironment('secret:decrypt', 'production'),
  'Deploy DEVELOPMENT': onEnvironment('deployment:trigger', 'development'),
  'Deploy STAGING': onEnvironment('deployment:trigger', 'staging'),
  'Deploy PRODUCTION': onEnvironment('deployment:trigger', 'production'),
  'Connect via shell in STAGING': onEnvironment('shell:connect', 'staging'),
  'Stream logs in PREVIEW': onEnvironment('log:stream', 'preview'),
  'View audit logs': ROWS_000['View audit logs']!,
  'Ask what another principal may do': { readRow: 'Read organization', exercise: { kind: 'check', action: 'authz:check' } },
  'Manage API tokens': ROWS_000['Manage API tokens']!,
};

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
