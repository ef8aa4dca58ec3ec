import { describe, expect, it } from 'vitest';
import { server, fixture, memberWithRole, typeLevels, check, expectForbidden } from '../../../test/fixtures/custom-roles.js';

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
  it.each([
    ['ENVIRONMENT_ADMIN', 'DEVELOPMENT'],
    ['FULL_VISIBILITY', 'STAGING'],
  ] as const)('hides the project on the next request once the only environment a set (%s) was on is deleted', async (set, type) => {
    const f = await fixture();
    const member = await memberWithRole(f.owner, f.org, { environment_permissions: [{ environment_id: f.environments[type], permissions: [set] }] });
    await server.expect(200, 'GET', f.base, { token: member.token });
    await server.expect(204, 'DELETE', `${f.base}/environments/${type.toLowerCase()}`, { token: f.owner.token });
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
    const member = await server.holder(f.owner.token, f.org, role);

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
