import { describe, expect, it } from 'vitest';
import { server, TYPES, ENVIRONMENT_ACTIONS, fixture, memberWithRole, typeLevels, check, expectForbidden } from '../../../test/fixtures/custom-roles.js';

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

describe('custom roles: the projects list of a member who holds a few of many (issue #16)', () => {
  it('lists exactly the projects the role makes visible, in slug order, across pages, and the owner still sees them all', async () => {
    const f = await fixture();
    const organization = await server.db.selectFrom('organizations').select('id').where('slug', '=', f.org).executeTakeFirstOrThrow();
    const rows = Array.from({ length: 120 }, (_, i) => `s${String(i).padStart(3, '0')}`).map((slug) => ({
      organization_id: organization.id,
      slug,
      name: slug,
      description: '',
    }));
    const ids = new Map((await server.db.insertInto('projects').values(rows).returning(['id', 'slug']).execute()).map((p) => [p.slug, p.id]));
    const level = (DEVELOPMENT: string) => typeLevels({ DEVELOPMENT, PREVIEW: 'NO_ACCESS', STAGING: 'NO_ACCESS', PRODUCTION: 'NO_ACCESS' });
    const member = await memberWithRole(f.owner, f.org, {
      project_permissions: [
        ...['s010', 's050', 's119'].map((slug) => ({ project_id: ids.get(slug), is_admin: false, permissions: level('VIEWER') })),
        { project_id: ids.get('s090'), is_admin: true, permissions: level('NO_ACCESS') },
        // Listed with every type NO_ACCESS: invisible (SPEC §2.3).
        { project_id: ids.get('s070'), is_admin: false, permissions: level('NO_ACCESS') },
      ],
      // One environment of the fixture's project makes that project visible too.
      environment_permissions: [{ environment_id: f.environments.PRODUCTION, permissions: ['BASIC_VISIBILITY'] }],
    });
    const expected = [f.project, 's010', 's050', 's090', 's119'].sort();

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '' : `&cursor=${cursor}`;
      const page = await server.expect(200, 'GET', `/orgs/${f.org}/projects?limit=2${query}`, { token: member.token });
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((p: { slug: string }) => p.slug));
      cursor = page.body.next_cursor;
    } while (cursor !== null && seen.length < 20);
    expect(seen).toEqual(expected);

    const all = await server.expect(200, 'GET', `/orgs/${f.org}/projects?limit=200`, { token: f.owner.token });
    expect(all.body.items).toHaveLength(121);
  });
});
