import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { server, fixture, memberWithRole, typeLevels, check, expectForbidden } from '../../../test/fixtures/custom-roles.js';

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
