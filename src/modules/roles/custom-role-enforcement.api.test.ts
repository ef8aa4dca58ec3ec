import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';

const server = useTestServer();

const TYPES = ['DEVELOPMENT', 'PREVIEW', 'STAGING', 'PRODUCTION'] as const;
type EnvironmentType = (typeof TYPES)[number];

/** SPEC §2.1: every action checked against an environment. */
const ENVIRONMENT_ACTIONS = [
  'environment:read',
  'environment:create',
  'environment:write',
  'environment:delete',
  'service:read',
  'service:create',
  'service:write',
  'service:delete',
  'secret:read',
  'secret:write',
  'secret:decrypt',
  'key:retrieve',
  'deployment:trigger',
  'shell:connect',
  'service:scale',
  'service:restart',
  'log:stream',
  'image:scan',
  'endpoint:create',
  'endpoint:delete',
  'database:read_credentials',
  'backup:create',
  'backup:restore',
  'backup:delete',
  'backup_policy:manage',
  'replica:create',
  'replica:delete',
  'tunnel:create',
  'drain:create',
  'drain:delete',
  'certificate:create',
  'certificate:delete',
];

/**
 * A new organization with one project holding one environment of each type (slugs
 * development, preview, staging, production), each with a service named backend.
 */
async function fixture() {
  const owner = await server.user('owner');
  const org = server.slug('org');
  await server.expect(201, 'POST', '/orgs', { token: owner.token, payload: { slug: org } });
  const project = server.slug('p');
  const projectId = (await server.expect(201, 'POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: project } })).body.id as string;
  const environments = {} as Record<EnvironmentType, string>;
  for (const type of TYPES) {
    const slug = type.toLowerCase();
    environments[type] = (
      await server.expect(201, 'POST', `/orgs/${org}/projects/${project}/environments`, { token: owner.token, payload: { slug, type } })
    ).body.id;
    await server.expect(201, 'POST', `/orgs/${org}/projects/${project}/environments/${slug}/services`, {
      token: owner.token,
      payload: { slug: 'backend', kind: 'application' },
    });
  }
  return { owner, org, project, projectId, environments, base: `/orgs/${org}/projects/${project}` };
}

/** A new member of `org` holding a new custom role made of `lists`. */
async function memberWithRole(owner: { token: string }, org: string, lists: Record<string, unknown>) {
  const role = (await server.expect(201, 'POST', `/orgs/${org}/roles`, { token: owner.token, payload: { name: server.slug('role'), ...lists } }))
    .body as { id: string; name: string };
  const user = await server.user('member');
  const invitation = await server.expect(201, 'POST', `/orgs/${org}/invitations`, {
    token: owner.token,
    payload: { email: user.email, role: 'VIEWER' },
  });
  await server.expect(200, 'POST', `/invitations/${invitation.body.token}/accept`, { token: user.token });
  await server.expect(200, 'PATCH', `/orgs/${org}/members/${user.id}`, { token: owner.token, payload: { role_id: role.id } });
  return { ...user, role };
}

function typeLevels(levels: Partial<Record<EnvironmentType, string>>) {
  return TYPES.filter((type) => levels[type] !== undefined).map((environment_type) => ({ environment_type, permission: levels[environment_type] }));
}

/** POST /authz/check about oneself; fails unless the API answers 200. */
async function check(token: string, org: string, action: string, resource?: string): Promise<{ allowed: boolean; reason: string }> {
  return (await server.expect(200, 'POST', `/orgs/${org}/authz/check`, { token, payload: { action, resource } })).body;
}

function expectForbidden(response: { status: number; body: { error: { code: string; details?: { action?: string } } } }, action: string) {
  expect(response.status).toBe(403);
  expect(response.body.error).toMatchObject({ code: 'FORBIDDEN', details: { action } });
}

describe('custom roles: project levels per environment type', () => {
  /** DEVELOPMENT: MANAGER, STAGING: DEPLOYER, PRODUCTION: VIEWER, PREVIEW: NO_ACCESS. */
  async function mixed() {
    const f = await fixture();
    const member = await memberWithRole(f.owner, f.org, {
      project_permissions: [
        {
          project_id: f.projectId,
          is_admin: false,
          permissions: typeLevels({ DEVELOPMENT: 'MANAGER', PREVIEW: 'NO_ACCESS', STAGING: 'DEPLOYER', PRODUCTION: 'VIEWER' }),
        },
      ],
    });
    return { ...f, member };
  }

  it('lets a MANAGER create a service in a DEVELOPMENT environment but refuses a VIEWER in PRODUCTION with 403 naming service:create', async () => {
    const { member, base } = await mixed();
    await server.expect(201, 'POST', `${base}/environments/development/services`, {
      token: member.token,
      payload: { slug: 'worker', kind: 'job' },
    });
    const refused = await server.request('POST', `${base}/environments/production/services`, {
      token: member.token,
      payload: { slug: 'worker', kind: 'job' },
    });
    expectForbidden(refused, 'service:create');
    const services = await server.expect(200, 'GET', `${base}/environments/production/services`, { token: member.token });
    expect(services.body.items.map((s: { slug: string }) => s.slug)).toEqual(['backend']);
  });

  it('lets a MANAGER edit and delete services and rename the environment of its type, not of a VIEWER type', async () => {
    const { member, base } = await mixed();
    await server.expect(200, 'PATCH', `${base}/environments/development/services/backend`, { token: member.token, payload: { name: 'Backend' } });
    expectForbidden(
      await server.request('PATCH', `${base}/environments/production/services/backend`, { token: member.token, payload: { name: 'Backend' } }),
      'service:write',
    );
    await server.expect(200, 'PATCH', `${base}/environments/development`, { token: member.token, payload: { name: 'Dev' } });
    expectForbidden(await server.request('PATCH', `${base}/environments/staging`, { token: member.token, payload: { name: 'Stg' } }), 'environment:write');
    expectForbidden(await server.request('DELETE', `${base}/environments/production/services/backend`, { token: member.token }), 'service:delete');
    await server.expect(204, 'DELETE', `${base}/environments/development/services/backend`, { token: member.token });
  });

  it('hides a NO_ACCESS type: its environment and services answer 404 and it is absent from the environments list', async () => {
    const { member, base } = await mixed();
    for (const url of [`${base}/environments/preview`, `${base}/environments/preview/services`, `${base}/environments/preview/services/backend`]) {
      const response = await server.request('GET', url, { token: member.token });
      expect(response.status, url).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
    const list = await server.expect(200, 'GET', `${base}/environments`, { token: member.token });
    expect(list.body.items.map((e: { slug: string }) => e.slug)).toEqual(['development', 'production', 'staging']);
    await server.expect(404, 'DELETE', `${base}/environments/preview`, { token: member.token });
    await server.expect(404, 'POST', `${base}/environments/preview/services`, { token: member.token, payload: { slug: 'x', kind: 'job' } });
  });

  it('lets a MANAGER create an environment of its type but refuses PRODUCTION (VIEWER) with 403 naming environment:create', async () => {
    const { member, owner, base } = await mixed();
    const created = await server.expect(201, 'POST', `${base}/environments`, {
      token: member.token,
      payload: { slug: 'feature-x', type: 'DEVELOPMENT' },
    });
    expect(created.body).toMatchObject({ slug: 'feature-x', type: 'DEVELOPMENT' });
    const refused = await server.request('POST', `${base}/environments`, { token: member.token, payload: { slug: 'prod-2', type: 'PRODUCTION' } });
    expectForbidden(refused, 'environment:create');
    await server.expect(404, 'GET', `${base}/environments/prod-2`, { token: owner.token });
  });

  it('refuses to move an environment to a type where the member may not create one', async () => {
    const { member, base, owner } = await mixed();
    const refused = await server.request('PATCH', `${base}/environments/development`, { token: member.token, payload: { type: 'PRODUCTION' } });
    expectForbidden(refused, 'environment:write');
    const got = await server.expect(200, 'GET', `${base}/environments/development`, { token: owner.token });
    expect(got.body.type).toBe('DEVELOPMENT');
  });

  it('allows deployment:trigger on STAGING (DEPLOYER) and not on PRODUCTION (VIEWER), with reasons naming the level', async () => {
    const { member, org, project } = await mixed();
    const staging = await check(member.token, org, 'deployment:trigger', `${project}/staging`);
    expect(staging.allowed).toBe(true);
    expect(staging.reason).toContain('DEPLOYER');
    const production = await check(member.token, org, 'deployment:trigger', `${project}/production/backend`);
    expect(production.allowed).toBe(false);
    expect(production.reason).toContain('PRODUCTION');
  });

  it.each([
    ['secret:read', { development: true, staging: true, production: true }],
    ['secret:write', { development: true, staging: true, production: false }],
    ['secret:decrypt', { development: true, staging: true, production: false }],
    ['service:restart', { development: true, staging: true, production: false }],
    ['shell:connect', { development: true, staging: false, production: false }],
    ['database:read_credentials', { development: false, staging: false, production: false }],
  ])('answers authz/check %s by the level of each environment type', async (action, expected) => {
    const { member, org, project } = await mixed();
    for (const [env, allowed] of Object.entries(expected)) {
      const decision = await check(member.token, org, action, `${project}/${env}`);
      expect(decision.allowed, `${action} on ${env}`).toBe(allowed);
    }
  });

  it('answers 404 to authz/check on an environment of a NO_ACCESS type', async () => {
    const { member, org, project } = await mixed();
    const response = await server.request('POST', `/orgs/${org}/authz/check`, {
      token: member.token,
      payload: { action: 'environment:read', resource: `${project}/preview` },
    });
    expect(response.status).toBe(404);
  });

  it('grants every environment action on a type set to ADMIN, and only there', async () => {
    const f = await fixture();
    const member = await memberWithRole(f.owner, f.org, {
      project_permissions: [{ project_id: f.projectId, permissions: typeLevels({ STAGING: 'ADMIN', PRODUCTION: 'MANAGER' }) }],
    });
    for (const action of ENVIRONMENT_ACTIONS) {
      expect((await check(member.token, f.org, action, `${f.project}/staging`)).allowed, action).toBe(true);
    }
    expect((await check(member.token, f.org, 'database:read_credentials', `${f.project}/production`)).allowed).toBe(false);
    expect((await check(member.token, f.org, 'backup:restore', `${f.project}/production`)).allowed).toBe(false);
  });

  it('refuses project:write to a member without is_admin, even with ADMIN on every type (403 on PATCH and DELETE project)', async () => {
    const f = await fixture();
    const member = await memberWithRole(f.owner, f.org, {
      project_permissions: [{ project_id: f.projectId, is_admin: false, permissions: typeLevels({ DEVELOPMENT: 'ADMIN', PREVIEW: 'ADMIN', STAGING: 'ADMIN', PRODUCTION: 'ADMIN' }) }],
    });
    await server.expect(200, 'GET', f.base, { token: member.token });
    expectForbidden(await server.request('PATCH', f.base, { token: member.token, payload: { name: 'Renamed' } }), 'project:write');
    expectForbidden(await server.request('DELETE', f.base, { token: member.token }), 'project:write');
  });

  it('gives is_admin: true project:write (PATCH project 200) and every environment action on every type', async () => {
    const f = await fixture();
    const member = await memberWithRole(f.owner, f.org, { project_permissions: [{ project_id: f.projectId, is_admin: true }] });
    const patched = await server.expect(200, 'PATCH', f.base, { token: member.token, payload: { name: 'Renamed by a project admin' } });
    expect(patched.body.name).toBe('Renamed by a project admin');
    for (const type of TYPES) {
      for (const action of ENVIRONMENT_ACTIONS) {
        const decision = await check(member.token, f.org, action, `${f.project}/${type.toLowerCase()}/backend`);
        expect(decision.allowed, `${action} on ${type}`).toBe(true);
      }
    }
    await server.expect(201, 'POST', `${f.base}/environments`, { token: member.token, payload: { slug: 'prod-2', type: 'PRODUCTION' } });
    await server.expect(204, 'DELETE', `${f.base}/environments/production`, { token: member.token });
    await server.expect(204, 'DELETE', f.base, { token: member.token });
  });

  it('hides a project whose types are all NO_ACCESS: GET 404 and absent from the projects list', async () => {
    const f = await fixture();
    const other = server.slug('visible');
    const otherId = (await server.expect(201, 'POST', `/orgs/${f.org}/projects`, { token: f.owner.token, payload: { slug: other } })).body.id;
    const member = await memberWithRole(f.owner, f.org, {
      project_permissions: [
        { project_id: f.projectId, is_admin: false, permissions: typeLevels({ DEVELOPMENT: 'NO_ACCESS', PREVIEW: 'NO_ACCESS', STAGING: 'NO_ACCESS', PRODUCTION: 'NO_ACCESS' }) },
        { project_id: otherId, permissions: typeLevels({ PRODUCTION: 'VIEWER' }) },
      ],
    });
    for (const url of [f.base, `${f.base}/environments`, `${f.base}/environments/production`]) {
      const response = await server.request('GET', url, { token: member.token });
      expect(response.status, url).toBe(404);
    }
    await server.expect(404, 'PATCH', f.base, { token: member.token, payload: { name: 'x' } });
    const list = await server.expect(200, 'GET', `/orgs/${f.org}/projects`, { token: member.token });
    expect(list.body.items.map((p: { slug: string }) => p.slug)).toEqual([other]);
    const asked = await server.request('POST', `/orgs/${f.org}/authz/check`, { token: member.token, payload: { action: 'project:read', resource: f.project } });
    expect(asked.status).toBe(404);
  });

  it('hides a project the role does not list', async () => {
    const f = await fixture();
    const listed = server.slug('listed');
    const listedId = (await server.expect(201, 'POST', `/orgs/${f.org}/projects`, { token: f.owner.token, payload: { slug: listed } })).body.id;
    const member = await memberWithRole(f.owner, f.org, { project_permissions: [{ project_id: listedId, is_admin: true }] });
    await server.expect(404, 'GET', f.base, { token: member.token });
    await server.expect(404, 'GET', `${f.base}/environments/development/services/backend`, { token: member.token });
    await server.expect(404, 'POST', `${f.base}/environments`, { token: member.token, payload: { slug: 'x', type: 'DEVELOPMENT' } });
    const list = await server.expect(200, 'GET', `/orgs/${f.org}/projects`, { token: member.token });
    expect(list.body.items.map((p: { slug: string }) => p.slug)).toEqual([listed]);
  });
});

describe('custom roles: cluster levels', () => {
  /** A fixture with a cluster, and a member holding `level` on it (none when undefined) and MANAGER on DEVELOPMENT. */
  async function withCluster(level: string | undefined) {
    const f = await fixture();
    const clusterId = (await server.expect(201, 'POST', `/orgs/${f.org}/clusters`, { token: f.owner.token, payload: { name: server.slug('cluster') } }))
      .body.id as string;
    const member = await memberWithRole(f.owner, f.org, {
      cluster_permissions: level === undefined ? [] : [{ cluster_id: clusterId, permission: level }],
      project_permissions: [{ project_id: f.projectId, permissions: typeLevels({ DEVELOPMENT: 'MANAGER', PRODUCTION: 'VIEWER' }) }],
    });
    return { ...f, clusterId, member, cluster: `/orgs/${f.org}/clusters/${clusterId}` };
  }

  it('hides a cluster the role does not list: GET 404 and absent from the clusters list', async () => {
    const { member, cluster, org } = await withCluster(undefined);
    await server.expect(404, 'GET', cluster, { token: member.token });
    await server.expect(404, 'PATCH', cluster, { token: member.token, payload: { name: 'x' } });
    const list = await server.expect(200, 'GET', `/orgs/${org}/clusters`, { token: member.token });
    expect(list.body.items).toEqual([]);
  });

  it('lets a cluster VIEWER read and list it but refuses PATCH with 403 naming cluster:write', async () => {
    const { member, cluster, org, clusterId } = await withCluster('VIEWER');
    await server.expect(200, 'GET', cluster, { token: member.token });
    const list = await server.expect(200, 'GET', `/orgs/${org}/clusters`, { token: member.token });
    expect(list.body.items.map((c: { id: string }) => c.id)).toEqual([clusterId]);
    expectForbidden(await server.request('PATCH', cluster, { token: member.token, payload: { name: 'renamed' } }), 'cluster:write');
  });

  it('refuses an ENV_CREATOR PATCH on the cluster with 403 naming cluster:write', async () => {
    const { member, cluster } = await withCluster('ENV_CREATOR');
    expectForbidden(await server.request('PATCH', cluster, { token: member.token, payload: { name: 'renamed' } }), 'cluster:write');
  });

  it('lets a cluster ADMIN edit it, but not delete it (cluster:manage is an organization action)', async () => {
    const { member, cluster } = await withCluster('ADMIN');
    const patched = await server.expect(200, 'PATCH', cluster, { token: member.token, payload: { name: 'renamed', region: 'eu-west-1' } });
    expect(patched.body).toMatchObject({ name: 'renamed', region: 'eu-west-1' });
    expectForbidden(await server.request('DELETE', cluster, { token: member.token }), 'cluster:manage');
  });

  it('refuses creating an environment on a cluster the member only views with 403 naming cluster:deploy', async () => {
    const { member, base, clusterId, owner } = await withCluster('VIEWER');
    const refused = await server.request('POST', `${base}/environments`, {
      token: member.token,
      payload: { slug: 'on-cluster', type: 'DEVELOPMENT', cluster_id: clusterId },
    });
    expectForbidden(refused, 'cluster:deploy');
    await server.expect(404, 'GET', `${base}/environments/on-cluster`, { token: owner.token });
    // Without a cluster the same member may create it.
    await server.expect(201, 'POST', `${base}/environments`, { token: member.token, payload: { slug: 'on-cluster', type: 'DEVELOPMENT' } });
  });

  it('answers a cluster the role does not list like an unknown one (same 400 naming body.cluster_id), when creating or moving an environment', async () => {
    const { member, base, clusterId } = await withCluster(undefined);
    const answers: unknown[] = [];
    for (const cluster_id of [clusterId, randomUUID()]) {
      const created = await server.request('POST', `${base}/environments`, { token: member.token, payload: { slug: 'placed', type: 'DEVELOPMENT', cluster_id } });
      const moved = await server.request('PATCH', `${base}/environments/development`, { token: member.token, payload: { cluster_id } });
      for (const response of [created, moved]) {
        expect(response.status).toBe(400);
        expect(response.body.error.details).toEqual({ field: 'body.cluster_id', reason: expect.any(String) });
      }
      answers.push([created.body.error.message, moved.body.error.message]);
    }
    expect(answers[0]).toEqual(answers[1]);
  });

  it('lets an ENV_CREATOR create an environment on the cluster, of a type it may create', async () => {
    const { member, base, clusterId } = await withCluster('ENV_CREATOR');
    const created = await server.expect(201, 'POST', `${base}/environments`, {
      token: member.token,
      payload: { slug: 'on-cluster', type: 'DEVELOPMENT', cluster_id: clusterId },
    });
    expect(created.body.cluster_id).toBe(clusterId);
    const refused = await server.request('POST', `${base}/environments`, {
      token: member.token,
      payload: { slug: 'prod-on-cluster', type: 'PRODUCTION', cluster_id: clusterId },
    });
    expectForbidden(refused, 'environment:create');
  });

  it('refuses moving an environment onto a cluster without cluster:deploy with 403 naming it', async () => {
    const { member, base, clusterId, owner } = await withCluster('VIEWER');
    expectForbidden(
      await server.request('PATCH', `${base}/environments/development`, { token: member.token, payload: { cluster_id: clusterId } }),
      'cluster:deploy',
    );
    const got = await server.expect(200, 'GET', `${base}/environments/development`, { token: owner.token });
    expect(got.body.cluster_id).toBeNull();
  });

  it('answers authz/check on a cluster by its level', async () => {
    const cases = [
      ['VIEWER', { 'cluster:read': true, 'cluster:deploy': false, 'cluster:write': false }],
      ['ENV_CREATOR', { 'cluster:read': true, 'cluster:deploy': true, 'cluster:write': false }],
      ['ADMIN', { 'cluster:read': true, 'cluster:deploy': true, 'cluster:write': true }],
    ] as const;
    for (const [level, expected] of cases) {
      const { member, org, clusterId } = await withCluster(level);
      for (const [action, allowed] of Object.entries(expected)) {
        const decision = await check(member.token, org, action, `cluster:${clusterId}`);
        expect(decision.allowed, `${level} ${action}`).toBe(allowed);
        if (allowed) expect(decision.reason).toContain(level);
      }
    }
  });
});

describe('custom roles: organization-level actions', () => {
  it('always grants organization:read: GET the organization, its members and roles answer 200', async () => {
    const f = await fixture();
    const member = await memberWithRole(f.owner, f.org, {});
    const org = await server.expect(200, 'GET', `/orgs/${f.org}`, { token: member.token });
    expect(org.body.slug).toBe(f.org);
    await server.expect(200, 'GET', `/orgs/${f.org}/members`, { token: member.token });
    await server.expect(200, 'GET', `/orgs/${f.org}/roles`, { token: member.token });
    expect((await check(member.token, f.org, 'organization:read')).allowed).toBe(true);
  });

  it('refuses organization-level routes with 403 naming the action, even to a role with is_admin and cluster ADMIN', async () => {
    const f = await fixture();
    const clusterId = (await server.expect(201, 'POST', `/orgs/${f.org}/clusters`, { token: f.owner.token, payload: { name: 'main' } })).body.id;
    const member = await memberWithRole(f.owner, f.org, {
      cluster_permissions: [{ cluster_id: clusterId, permission: 'ADMIN' }],
      project_permissions: [{ project_id: f.projectId, is_admin: true }],
    });
    const routes = [
      ['POST', `/orgs/${f.org}/clusters`, { name: 'another' }, 'cluster:manage'],
      ['POST', `/orgs/${f.org}/projects`, { slug: 'another' }, 'project:create'],
      ['POST', `/orgs/${f.org}/invitations`, { email: server.email('invitee'), role: 'VIEWER' }, 'member:manage'],
      ['PATCH', `/orgs/${f.org}`, { name: 'Renamed' }, 'organization:write'],
      ['DELETE', `/orgs/${f.org}`, undefined, 'organization:delete'],
      ['POST', `/orgs/${f.org}/roles`, { name: 'Escalated' }, 'member:manage'],
      ['PATCH', `/orgs/${f.org}/members/${f.owner.id}`, { role: 'VIEWER' }, 'member:manage'],
      ['GET', `/orgs/${f.org}/tokens`, undefined, 'token:manage'],
    ] as const;
    for (const [method, url, payload, action] of routes) {
      const response = await server.request(method, url, { token: member.token, payload });
      expect(response.status, `${method} ${url}`).toBe(403);
      expect(response.body.error.details.action, `${method} ${url}`).toBe(action);
    }
    await server.expect(200, 'GET', `/orgs/${f.org}`, { token: f.owner.token });
  });

  it.each(['token:manage', 'member:manage', 'cluster:manage', 'billing:manage', 'organization:setup', 'audit:read', 'authz:check', 'project:create'])(
    'answers authz/check %s with allowed: false and a reason, for any custom role',
    async (action) => {
      const f = await fixture();
      const member = await memberWithRole(f.owner, f.org, { project_permissions: [{ project_id: f.projectId, is_admin: true }] });
      const decision = await check(member.token, f.org, action);
      expect(decision.allowed).toBe(false);
      expect(decision.reason).toContain(action);
    },
  );

  it("refuses a custom role member asking about another principal with 403 naming authz:check", async () => {
    const f = await fixture();
    const member = await memberWithRole(f.owner, f.org, { project_permissions: [{ project_id: f.projectId, is_admin: true }] });
    const response = await server.request('POST', `/orgs/${f.org}/authz/check`, {
      token: member.token,
      payload: { principal: { user_id: f.owner.id }, action: 'project:read', resource: f.project },
    });
    expectForbidden(response, 'authz:check');
  });

  it("lets the OWNER ask about a custom role member's permissions, with the role named in the reason", async () => {
    const f = await fixture();
    const member = await memberWithRole(f.owner, f.org, {
      project_permissions: [{ project_id: f.projectId, permissions: typeLevels({ STAGING: 'DEPLOYER' }) }],
    });
    const response = await server.expect(200, 'POST', `/orgs/${f.org}/authz/check`, {
      token: f.owner.token,
      payload: { principal: { user_id: member.id }, action: 'deployment:trigger', resource: `${f.project}/staging` },
    });
    expect(response.body).toMatchObject({ user_id: member.id, allowed: true });
    expect(response.body.reason).toContain(member.role.name);
  });
});

describe('custom roles: seed 004 per-environment permission sets', () => {
  const SETS = [
    'BASIC_VISIBILITY',
    'FULL_VISIBILITY',
    'ENVIRONMENT_ADMIN',
    'DEPLOYMENT',
    'DESTRUCTION',
    'OPS',
    'SENSITIVE_ACCESS',
    'TUNNEL',
  ] as const;
  type PermissionSet = (typeof SETS)[number];

  /**
   * The seed 004 matrix rows whose columns are beyond doubt: `allowed` sets hold the
   * action, `denied` sets do not; a set in neither is not asserted.
   */
  const ALL: readonly PermissionSet[] = SETS;
  const only = (...holders: PermissionSet[]) => ({ allowed: holders, denied: SETS.filter((s) => !holders.includes(s)) });
  const MATRIX: Record<string, { allowed: readonly PermissionSet[]; denied: readonly PermissionSet[] }> = {
    // "Every permission allows users to read basic, non-sensitive information."
    'environment:read': { allowed: ALL, denied: [] },
    'service:read': { allowed: ALL, denied: [] },
    // Apps: Read Configuration; Basic Visibility sees no configuration values.
    'secret:read': only('ENVIRONMENT_ADMIN', 'FULL_VISIBILITY', 'SENSITIVE_ACCESS'),
    // Deployment never reads sensitive values (write-only).
    'secret:decrypt': { allowed: ['ENVIRONMENT_ADMIN', 'SENSITIVE_ACCESS'], denied: ['BASIC_VISIBILITY', 'DEPLOYMENT', 'DESTRUCTION', 'OPS', 'TUNNEL'] },
    // Apps: Configure.
    'secret:write': only('ENVIRONMENT_ADMIN', 'DEPLOYMENT', 'SENSITIVE_ACCESS'),
    // Databases: Read Credentials.
    'database:read_credentials': only('ENVIRONMENT_ADMIN', 'SENSITIVE_ACCESS'),
    // Environment: Deprovision.
    'environment:delete': only('ENVIRONMENT_ADMIN', 'DESTRUCTION'),
    // Environment: Rename.
    'environment:write': only('ENVIRONMENT_ADMIN'),
    // Environment: Manage Backup Retention Policy.
    'backup_policy:manage': only('ENVIRONMENT_ADMIN'),
    // Apps: Deploy.
    'deployment:trigger': only('ENVIRONMENT_ADMIN', 'DEPLOYMENT'),
    // Apps: Create.
    'service:create': { allowed: ['ENVIRONMENT_ADMIN', 'DEPLOYMENT'], denied: ['BASIC_VISIBILITY', 'FULL_VISIBILITY', 'TUNNEL'] },
    // Apps: Deprovision.
    'service:delete': only('ENVIRONMENT_ADMIN', 'DESTRUCTION'),
    // Apps: Restart (three marks: Deployment and Ops both name restarting in their description).
    'service:restart': only('ENVIRONMENT_ADMIN', 'DEPLOYMENT', 'OPS'),
    // Apps: Scale (three marks; Ops names scaling, the third is not certain from the text).
    'service:scale': { allowed: ['ENVIRONMENT_ADMIN', 'OPS'], denied: ['BASIC_VISIBILITY', 'DESTRUCTION', 'TUNNEL'] },
    // Databases: Create Tunnels.
    'tunnel:create': only('ENVIRONMENT_ADMIN', 'TUNNEL'),
    // SSL Certificates: Create, Delete.
    'certificate:create': only('ENVIRONMENT_ADMIN', 'SENSITIVE_ACCESS'),
    'certificate:delete': only('ENVIRONMENT_ADMIN', 'DESTRUCTION', 'SENSITIVE_ACCESS'),
  };

  /** A member holding `sets` on the production environment only. */
  async function withSets(...sets: PermissionSet[]) {
    const f = await fixture();
    const member = await memberWithRole(f.owner, f.org, {
      environment_permissions: [{ environment_id: f.environments.PRODUCTION, permissions: sets }],
    });
    return { ...f, member };
  }

  it.each(SETS)('%s answers authz/check as the seed 004 matrix says', async (set) => {
    const { member, org, project } = await withSets(set);
    for (const [action, { allowed, denied }] of Object.entries(MATRIX)) {
      if (!allowed.includes(set) && !denied.includes(set)) continue;
      const decision = await check(member.token, org, action, `${project}/production/backend`);
      expect(decision.allowed, `${set} ${action}`).toBe(allowed.includes(set));
      if (decision.allowed) expect(decision.reason).toContain(set);
    }
  });

  it.each(SETS)('%s shows the environment and its services but nothing of another environment, and makes the project visible', async (set) => {
    const { member, base, org, project } = await withSets(set);
    await server.expect(200, 'GET', `${base}/environments/production`, { token: member.token });
    await server.expect(200, 'GET', `${base}/environments/production/services/backend`, { token: member.token });
    const services = await server.expect(200, 'GET', `${base}/environments/production/services`, { token: member.token });
    expect(services.body.items.map((s: { slug: string }) => s.slug)).toEqual(['backend']);

    await server.expect(200, 'GET', base, { token: member.token });
    const projects = await server.expect(200, 'GET', `/orgs/${org}/projects`, { token: member.token });
    expect(projects.body.items.map((p: { slug: string }) => p.slug)).toEqual([project]);
    const environments = await server.expect(200, 'GET', `${base}/environments`, { token: member.token });
    expect(environments.body.items.map((e: { slug: string }) => e.slug)).toEqual(['production']);

    for (const url of [`${base}/environments/staging`, `${base}/environments/staging/services/backend`]) {
      expect((await server.request('GET', url, { token: member.token })).status, url).toBe(404);
    }
    const elsewhere = await server.request('POST', `/orgs/${org}/authz/check`, {
      token: member.token,
      payload: { action: 'environment:read', resource: `${project}/staging` },
    });
    expect(elsewhere.status).toBe(404);
  });

  it.each(SETS)('%s renames the environment only if ENVIRONMENT_ADMIN (PATCH {name}: 200, else 403)', async (set) => {
    const { member, base } = await withSets(set);
    const response = await server.request('PATCH', `${base}/environments/production`, { token: member.token, payload: { name: 'Live' } });
    if (set === 'ENVIRONMENT_ADMIN') {
      expect(response.status).toBe(200);
      expect(response.body.name).toBe('Live');
    } else {
      expectForbidden(response, 'environment:write');
    }
  });

  it.each(SETS)('%s deletes the environment only if ENVIRONMENT_ADMIN or DESTRUCTION (DELETE: 204, else 403)', async (set) => {
    const { member, base, owner } = await withSets(set);
    const response = await server.request('DELETE', `${base}/environments/production`, { token: member.token });
    if (set === 'ENVIRONMENT_ADMIN' || set === 'DESTRUCTION') {
      expect(response.status).toBe(204);
      await server.expect(404, 'GET', `${base}/environments/production`, { token: owner.token });
    } else {
      expectForbidden(response, 'environment:delete');
      await server.expect(200, 'GET', `${base}/environments/production`, { token: owner.token });
    }
  });

  it('lets DEPLOYMENT create a service and DESTRUCTION delete one, and refuses BASIC_VISIBILITY both with 403', async () => {
    const deployer = await withSets('DEPLOYMENT');
    await server.expect(201, 'POST', `${deployer.base}/environments/production/services`, {
      token: deployer.member.token,
      payload: { slug: 'worker', kind: 'job' },
    });
    expectForbidden(await server.request('DELETE', `${deployer.base}/environments/production/services/backend`, { token: deployer.member.token }), 'service:delete');

    const destroyer = await withSets('DESTRUCTION');
    await server.expect(204, 'DELETE', `${destroyer.base}/environments/production/services/backend`, { token: destroyer.member.token });

    const basic = await withSets('BASIC_VISIBILITY');
    expectForbidden(
      await server.request('POST', `${basic.base}/environments/production/services`, { token: basic.member.token, payload: { slug: 'worker', kind: 'job' } }),
      'service:create',
    );
    expectForbidden(await server.request('DELETE', `${basic.base}/environments/production/services/backend`, { token: basic.member.token }), 'service:delete');
  });

  it('combines several sets on one environment: SENSITIVE_ACCESS with TUNNEL tunnels in and reads database credentials', async () => {
    const { member, org, project } = await withSets('SENSITIVE_ACCESS', 'TUNNEL');
    expect((await check(member.token, org, 'tunnel:create', `${project}/production`)).allowed).toBe(true);
    expect((await check(member.token, org, 'database:read_credentials', `${project}/production`)).allowed).toBe(true);
    expect((await check(member.token, org, 'environment:delete', `${project}/production`)).allowed).toBe(false);
  });

  it('adds a set to what the project level grants on the same environment', async () => {
    const f = await fixture();
    const member = await memberWithRole(f.owner, f.org, {
      project_permissions: [{ project_id: f.projectId, permissions: typeLevels({ PRODUCTION: 'VIEWER', STAGING: 'VIEWER' }) }],
      environment_permissions: [{ environment_id: f.environments.PRODUCTION, permissions: ['DESTRUCTION'] }],
    });
    await server.expect(204, 'DELETE', `${f.base}/environments/production/services/backend`, { token: member.token });
    expectForbidden(await server.request('DELETE', `${f.base}/environments/staging/services/backend`, { token: member.token }), 'service:delete');
    expect((await check(member.token, f.org, 'secret:read', `${f.project}/production`)).allowed).toBe(true);
  });

  it('does not let a set on one environment create other environments in its project', async () => {
    const { member, base, owner } = await withSets('ENVIRONMENT_ADMIN');
    const response = await server.request('POST', `${base}/environments`, { token: member.token, payload: { slug: 'new-one', type: 'PRODUCTION' } });
    // The set makes the project visible, so the refusal is a 403, not a 404.
    expectForbidden(response, 'environment:create');
    await server.expect(404, 'GET', `${base}/environments/new-one`, { token: owner.token });
  });
});

describe('custom roles: changes take effect on the next request', () => {
  it('hides the project again once the only environment the role named is deleted', async () => {
    const f = await fixture();
    const member = await memberWithRole(f.owner, f.org, {
      environment_permissions: [{ environment_id: f.environments.DEVELOPMENT, permissions: ['ENVIRONMENT_ADMIN'] }],
    });
    await server.expect(200, 'GET', f.base, { token: member.token });
    await server.expect(204, 'DELETE', `${f.base}/environments/development`, { token: f.owner.token });
    await server.expect(404, 'GET', f.base, { token: member.token });
    const projects = await server.expect(200, 'GET', `/orgs/${f.org}/projects`, { token: member.token });
    expect(projects.body.items).toEqual([]);
  });

  it('refuses the very next request after a PUT lowers a level', async () => {
    const f = await fixture();
    const body = (permission: string) => ({
      name: 'Developers',
      project_permissions: [{ project_id: f.projectId, permissions: typeLevels({ DEVELOPMENT: permission }) }],
    });
    const role = (await server.expect(201, 'POST', `/orgs/${f.org}/roles`, { token: f.owner.token, payload: body('MANAGER') })).body.id;
    const member = await server.user('member');
    const invitation = await server.expect(201, 'POST', `/orgs/${f.org}/invitations`, { token: f.owner.token, payload: { email: member.email, role: 'VIEWER' } });
    await server.expect(200, 'POST', `/invitations/${invitation.body.token}/accept`, { token: member.token });
    await server.expect(200, 'PATCH', `/orgs/${f.org}/members/${member.id}`, { token: f.owner.token, payload: { role_id: role } });

    const services = `${f.base}/environments/development/services`;
    await server.expect(201, 'POST', services, { token: member.token, payload: { slug: 'first', kind: 'job' } });
    await server.expect(200, 'PUT', `/orgs/${f.org}/roles/${role}`, { token: f.owner.token, payload: body('VIEWER') });
    expectForbidden(await server.request('POST', services, { token: member.token, payload: { slug: 'second', kind: 'job' } }), 'service:create');

    await server.expect(200, 'PUT', `/orgs/${f.org}/roles/${role}`, { token: f.owner.token, payload: body('NO_ACCESS') });
    await server.expect(404, 'GET', f.base, { token: member.token });

    await server.expect(200, 'PUT', `/orgs/${f.org}/roles/${role}`, { token: f.owner.token, payload: body('MANAGER') });
    await server.expect(201, 'POST', services, { token: member.token, payload: { slug: 'second', kind: 'job' } });
  });

  it('applies a cluster level lowered by PUT on the next request', async () => {
    const f = await fixture();
    const clusterId = (await server.expect(201, 'POST', `/orgs/${f.org}/clusters`, { token: f.owner.token, payload: { name: 'main' } })).body.id;
    const member = await memberWithRole(f.owner, f.org, { cluster_permissions: [{ cluster_id: clusterId, permission: 'ADMIN' }] });
    const cluster = `/orgs/${f.org}/clusters/${clusterId}`;
    await server.expect(200, 'PATCH', cluster, { token: member.token, payload: { name: 'renamed' } });
    await server.expect(200, 'PUT', `/orgs/${f.org}/roles/${member.role.id}`, {
      token: f.owner.token,
      payload: { name: member.role.name, cluster_permissions: [{ cluster_id: clusterId, permission: 'VIEWER' }] },
    });
    expectForbidden(await server.request('PATCH', cluster, { token: member.token, payload: { name: 'again' } }), 'cluster:write');
    await server.expect(200, 'PUT', `/orgs/${f.org}/roles/${member.role.id}`, { token: f.owner.token, payload: { name: member.role.name } });
    await server.expect(404, 'GET', cluster, { token: member.token });
  });

  it('applies a permission set removed by PUT on the next request', async () => {
    const f = await fixture();
    const member = await memberWithRole(f.owner, f.org, {
      environment_permissions: [{ environment_id: f.environments.STAGING, permissions: ['SENSITIVE_ACCESS'] }],
    });
    expect((await check(member.token, f.org, 'database:read_credentials', `${f.project}/staging`)).allowed).toBe(true);
    await server.expect(200, 'PUT', `/orgs/${f.org}/roles/${member.role.id}`, {
      token: f.owner.token,
      payload: { name: member.role.name, environment_permissions: [{ environment_id: f.environments.STAGING, permissions: ['BASIC_VISIBILITY'] }] },
    });
    expect((await check(member.token, f.org, 'database:read_credentials', `${f.project}/staging`)).allowed).toBe(false);
  });

  it('applies a change of role on the next request: a custom role replaced by VIEWER, then by another custom role', async () => {
    const f = await fixture();
    const member = await memberWithRole(f.owner, f.org, { project_permissions: [{ project_id: f.projectId, is_admin: true }] });
    await server.expect(200, 'PATCH', f.base, { token: member.token, payload: { name: 'By the member' } });

    await server.expect(200, 'PATCH', `/orgs/${f.org}/members/${member.id}`, { token: f.owner.token, payload: { role: 'VIEWER' } });
    expectForbidden(await server.request('PATCH', f.base, { token: member.token, payload: { name: 'Again' } }), 'project:write');

    const nothing = (await server.expect(201, 'POST', `/orgs/${f.org}/roles`, { token: f.owner.token, payload: { name: 'Nothing' } })).body.id;
    await server.expect(200, 'PATCH', `/orgs/${f.org}/members/${member.id}`, { token: f.owner.token, payload: { role_id: nothing } });
    await server.expect(404, 'GET', f.base, { token: member.token });
    await server.expect(200, 'GET', `/orgs/${f.org}`, { token: member.token });
  });

  it('hides the project on the next request once the only environment a set was on is deleted', async () => {
    const f = await fixture();
    const member = await memberWithRole(f.owner, f.org, {
      environment_permissions: [{ environment_id: f.environments.STAGING, permissions: ['FULL_VISIBILITY'] }],
    });
    await server.expect(200, 'GET', f.base, { token: member.token });
    await server.expect(204, 'DELETE', `${f.base}/environments/staging`, { token: f.owner.token });
    await server.expect(404, 'GET', f.base, { token: member.token });
    const projects = await server.expect(200, 'GET', `/orgs/${f.org}/projects`, { token: member.token });
    expect(projects.body.items).toEqual([]);
  });

  it.runIf(process.env.COFFER_TEST_BACKEND === 'postgres')('applies a role change made on one instance on the next request to another', async () => {
    const f = await fixture();
    const sibling = await server.sibling();
    try {
      const member = await memberWithRole(f.owner, f.org, { project_permissions: [{ project_id: f.projectId, is_admin: true }] });
      await sibling.expect(200, 'PATCH', f.base, { token: member.token, payload: { name: 'Seen by the sibling' } });
      await server.expect(200, 'PUT', `/orgs/${f.org}/roles/${member.role.id}`, {
        token: f.owner.token,
        payload: { name: member.role.name, project_permissions: [{ project_id: f.projectId, permissions: typeLevels({ PRODUCTION: 'VIEWER' }) }] },
      });
      expectForbidden(await sibling.request('PATCH', f.base, { token: member.token, payload: { name: 'Again' } }), 'project:write');
      await server.expect(200, 'PUT', `/orgs/${f.org}/roles/${member.role.id}`, { token: f.owner.token, payload: { name: member.role.name } });
      await sibling.expect(404, 'GET', f.base, { token: member.token });
    } finally {
      await sibling.close();
    }
  });

  it('keeps two members of one role in step: a PUT changes what both may do', async () => {
    const f = await fixture();
    const first = await memberWithRole(f.owner, f.org, { project_permissions: [{ project_id: f.projectId, permissions: typeLevels({ STAGING: 'VIEWER' }) }] });
    const second = await server.user('second');
    const invitation = await server.expect(201, 'POST', `/orgs/${f.org}/invitations`, { token: f.owner.token, payload: { email: second.email, role: 'VIEWER' } });
    await server.expect(200, 'POST', `/invitations/${invitation.body.token}/accept`, { token: second.token });
    await server.expect(200, 'PATCH', `/orgs/${f.org}/members/${second.id}`, { token: f.owner.token, payload: { role_id: first.role.id } });
    for (const member of [first, second]) await server.expect(200, 'GET', `${f.base}/environments/staging`, { token: member.token });

    await server.expect(200, 'PUT', `/orgs/${f.org}/roles/${first.role.id}`, {
      token: f.owner.token,
      payload: { name: first.role.name, project_permissions: [{ project_id: f.projectId, permissions: typeLevels({ PRODUCTION: 'VIEWER' }) }] },
    });
    for (const member of [first, second]) {
      await server.expect(404, 'GET', `${f.base}/environments/staging`, { token: member.token });
      await server.expect(200, 'GET', `${f.base}/environments/production`, { token: member.token });
    }
  });
});
