import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';

const server = useTestServer();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SYSTEM_ROLES = ['OWNER', 'ADMIN', 'DEVOPS', 'BILLING_MANAGER', 'VIEWER', 'AUDITOR', 'DEVELOPER', 'MEMBER', 'API_USER'];
const TYPES = ['DEVELOPMENT', 'PREVIEW', 'STAGING', 'PRODUCTION'] as const;

async function createCluster(token: string, org: string, name: string): Promise<string> {
  return (await server.expect(201, 'POST', `/orgs/${org}/clusters`, { token, payload: { name } })).body.id;
}

async function createProject(token: string, org: string, name: string, slug = server.slug('p')): Promise<string> {
  return (await server.expect(201, 'POST', `/orgs/${org}/projects`, { token, payload: { slug, name } })).body.id;
}

async function createEnvironment(token: string, org: string, project: string, slug: string, type: string): Promise<string> {
  return (await server.expect(201, 'POST', `/orgs/${org}/projects/${project}/environments`, { token, payload: { slug, type } })).body.id;
}

async function createRole(token: string, org: string, payload: Record<string, unknown>) {
  return (await server.expect(201, 'POST', `/orgs/${org}/roles`, { token, payload })).body as { id: string; name: string };
}

function levels(permission: string) {
  return TYPES.map((environment_type) => ({ environment_type, permission }));
}

/** seed 001's platformengineer.json, with the ids of real clusters and projects. */
function platformEngineers(ids: { eks: string; production: string; console: string; marketing: string; posthog: string; product: string }) {
  return {
    name: 'Platform Engineers',
    description: 'Role for all Platform Engineers',
    cluster_permissions: [
      { cluster_id: ids.eks, cluster_name: 'eks staging', permission: 'ADMIN' },
      { cluster_id: ids.production, cluster_name: 'production', permission: 'ENV_CREATOR' },
    ],
    project_permissions: [
      { project_id: ids.console, project_name: 'Console V3', is_admin: true },
      { project_id: ids.marketing, project_name: 'Marketing', is_admin: false, permissions: levels('VIEWER') },
      { project_id: ids.posthog, project_name: 'Posthog Analytics', is_admin: false, permissions: levels('NO_ACCESS') },
      { project_id: ids.product, project_name: 'Product', is_admin: false, permissions: levels('VIEWER') },
    ],
  };
}

/** An organization holding seed 001's clusters and projects. */
async function seedOrg() {
  const { owner, org } = await server.org();
  const ids = {
    eks: await createCluster(owner.token, org, 'eks staging'),
    production: await createCluster(owner.token, org, 'production'),
    console: await createProject(owner.token, org, 'Console V3'),
    marketing: await createProject(owner.token, org, 'Marketing'),
    posthog: await createProject(owner.token, org, 'Posthog Analytics'),
    product: await createProject(owner.token, org, 'Product'),
  };
  return { owner, org, ids };
}

describe('roles: listing and reading', () => {
  it('lists the 9 system roles, marked system: true, before any custom role exists', async () => {
    const { owner, org } = await server.org();
    const list = await server.expect(200, 'GET', `/orgs/${org}/roles`, { token: owner.token });
    expect(list.body.items.map((r: { id: string }) => r.id)).toEqual(SYSTEM_ROLES);
    for (const role of list.body.items) {
      expect(role).toMatchObject({ id: role.name, system: true, description: expect.any(String) });
    }
  });

  it('lists custom roles after the system roles, marked system: false', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Support', description: 'Read-only support staff' });
    const list = await server.expect(200, 'GET', `/orgs/${org}/roles`, { token: owner.token });
    expect(list.body.items).toHaveLength(10);
    expect(list.body.items.slice(0, 9).every((r: { system: boolean }) => r.system)).toBe(true);
    expect(list.body.items[9]).toMatchObject({ id: role.id, name: 'Support', description: 'Read-only support staff', system: false });
  });

  it("does not list another organization's custom roles", async () => {
    const mine = await server.org();
    const theirs = await server.org();
    await createRole(theirs.owner.token, theirs.org, { name: 'Theirs' });
    const list = await server.expect(200, 'GET', `/orgs/${mine.org}/roles`, { token: mine.owner.token });
    expect(list.body.items.map((r: { name: string }) => r.name)).toEqual(SYSTEM_ROLES);
  });

  it('gets a system role by its name with 200 and system: true', async () => {
    const { owner, org } = await server.org();
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/ADMIN`, { token: owner.token });
    expect(got.body).toMatchObject({ id: 'ADMIN', name: 'ADMIN', system: true, description: expect.any(String) });
  });

  it('lets any member, even a VIEWER, list and read roles', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Readable' });
    const viewer = await server.user('viewer');
    await server.join(owner.token, org, viewer, 'VIEWER');
    await server.expect(200, 'GET', `/orgs/${org}/roles`, { token: viewer.token });
    await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: viewer.token });
  });

  it('answers 404 to an unknown role id, a malformed one and a lowercase system role name', async () => {
    const { owner, org } = await server.org();
    for (const id of [randomUUID(), 'not-a-role', 'admin']) {
      const response = await server.request('GET', `/orgs/${org}/roles/${id}`, { token: owner.token });
      expect(response.status, id).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
  });

  it("answers 404 to another organization's custom role addressed through one's own", async () => {
    const mine = await server.org();
    const theirs = await server.org();
    const role = await createRole(theirs.owner.token, theirs.org, { name: 'Theirs' });
    await server.expect(404, 'GET', `/orgs/${mine.org}/roles/${role.id}`, { token: mine.owner.token });
    await server.expect(404, 'PUT', `/orgs/${mine.org}/roles/${role.id}`, { token: mine.owner.token, payload: { name: 'Hijacked' } });
    await server.expect(404, 'DELETE', `/orgs/${mine.org}/roles/${role.id}`, { token: mine.owner.token });
    const still = await server.expect(200, 'GET', `/orgs/${theirs.org}/roles/${role.id}`, { token: theirs.owner.token });
    expect(still.body.name).toBe('Theirs');
  });
});

describe("roles: seed 001's bodies round-trip", () => {
  it('creates a role from the seed POST body (name and description) with 201 and empty lists', async () => {
    const { owner, org } = await server.org();
    const created = await server.expect(201, 'POST', `/orgs/${org}/roles`, {
      token: owner.token,
      payload: { name: 'Platform Engineers', description: 'Role for all Platform Engineers' },
    });
    expect(created.body).toEqual({
      id: expect.stringMatching(UUID),
      name: 'Platform Engineers',
      description: 'Role for all Platform Engineers',
      system: false,
      cluster_permissions: [],
      project_permissions: [],
      environment_permissions: [],
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${created.body.id}`, { token: owner.token });
    expect(got.body).toEqual(created.body);
  });

  it('defaults a missing description to empty', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'No description' });
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.description).toBe('');
  });

  it('accepts the seed platformengineer.json PUT body as is and reads it back in the same shape', async () => {
    const { owner, org, ids } = await seedOrg();
    const role = await createRole(owner.token, org, { name: 'Platform Engineers', description: 'Role for all Platform Engineers' });
    const body = platformEngineers(ids);
    const put = await server.expect(200, 'PUT', `/orgs/${org}/roles/${role.id}`, { token: owner.token, payload: body });
    const expected = {
      ...body,
      id: role.id,
      system: false,
      environment_permissions: [],
      created_at: expect.any(String),
      updated_at: expect.any(String),
    };
    expect(put.body).toEqual(expected);
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body).toEqual(expected);
    // The is_admin project carries no permissions key at all, as in the seed.
    expect(got.body.project_permissions[0]).not.toHaveProperty('permissions');
    const list = await server.expect(200, 'GET', `/orgs/${org}/roles`, { token: owner.token });
    expect(list.body.items.find((r: { id: string }) => r.id === role.id)).toEqual(expected);
  });

  it('fills cluster_name and project_name from the real names, whatever the body said or omitted', async () => {
    const { owner, org, ids } = await seedOrg();
    const body = platformEngineers(ids);
    const payload = {
      ...body,
      cluster_permissions: [
        { cluster_id: ids.eks, cluster_name: 'a name that is wrong', permission: 'ADMIN' },
        { cluster_id: ids.production, permission: 'ENV_CREATOR' },
      ],
      project_permissions: body.project_permissions.map(({ project_name: _ignored, ...rest }) => rest),
    };
    const created = await server.expect(201, 'POST', `/orgs/${org}/roles`, { token: owner.token, payload });
    expect(created.body.cluster_permissions).toEqual(body.cluster_permissions);
    expect(created.body.project_permissions).toEqual(body.project_permissions);
  });

  it('reads back the current names after a cluster or project is renamed', async () => {
    const { owner, org } = await server.org();
    const cluster = await createCluster(owner.token, org, 'old cluster');
    const slug = server.slug('p');
    const project = await createProject(owner.token, org, 'Old project', slug);
    const role = await createRole(owner.token, org, {
      name: 'Renames',
      cluster_permissions: [{ cluster_id: cluster, permission: 'VIEWER' }],
      project_permissions: [{ project_id: project, is_admin: true }],
    });
    await server.expect(200, 'PATCH', `/orgs/${org}/clusters/${cluster}`, { token: owner.token, payload: { name: 'new cluster' } });
    await server.expect(200, 'PATCH', `/orgs/${org}/projects/${slug}`, { token: owner.token, payload: { name: 'New project' } });
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.cluster_permissions).toEqual([{ cluster_id: cluster, cluster_name: 'new cluster', permission: 'VIEWER' }]);
    expect(got.body.project_permissions).toEqual([{ project_id: project, project_name: 'New project', is_admin: true }]);
  });

  it('preserves the order of entries as given, not the order of names or ids', async () => {
    const { owner, org } = await server.org();
    const clusters = [await createCluster(owner.token, org, 'zulu'), await createCluster(owner.token, org, 'alpha'), await createCluster(owner.token, org, 'mike')];
    const projects = [
      await createProject(owner.token, org, 'Zeta'),
      await createProject(owner.token, org, 'Alpha'),
      await createProject(owner.token, org, 'Mu'),
    ];
    const payload = {
      name: 'Ordered',
      cluster_permissions: [clusters[2], clusters[0], clusters[1]].map((cluster_id) => ({ cluster_id, permission: 'VIEWER' })),
      project_permissions: [projects[1], projects[2], projects[0]].map((project_id) => ({ project_id, is_admin: true })),
    };
    const role = await createRole(owner.token, org, payload);
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.cluster_permissions.map((c: { cluster_name: string }) => c.cluster_name)).toEqual(['mike', 'zulu', 'alpha']);
    expect(got.body.project_permissions.map((p: { project_name: string }) => p.project_name)).toEqual(['Alpha', 'Mu', 'Zeta']);
  });

  it('round-trips environment_permissions with the seed 004 set names, filling environment_name and project_name', async () => {
    const { owner, org } = await server.org();
    const slug = server.slug('p');
    await createProject(owner.token, org, 'Store', slug);
    const production = await createEnvironment(owner.token, org, slug, 'production', 'PRODUCTION');
    const staging = await createEnvironment(owner.token, org, slug, 'staging', 'STAGING');
    const environment_permissions = [
      { environment_id: production, permissions: ['BASIC_VISIBILITY', 'FULL_VISIBILITY', 'ENVIRONMENT_ADMIN', 'DEPLOYMENT'] },
      { environment_id: staging, permissions: ['DESTRUCTION', 'OPS', 'SENSITIVE_ACCESS', 'TUNNEL'] },
    ];
    const role = await createRole(owner.token, org, { name: 'Per environment', environment_permissions });
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.environment_permissions).toEqual([
      { ...environment_permissions[0], environment_name: 'production', project_name: 'Store' },
      { ...environment_permissions[1], environment_name: 'staging', project_name: 'Store' },
    ]);
  });

  it('reads back only the environment types a project entry gave, and is_admin: false when it was omitted', async () => {
    const { owner, org } = await server.org();
    const project = await createProject(owner.token, org, 'Partial');
    const permissions = [
      { environment_type: 'STAGING', permission: 'DEPLOYER' },
      { environment_type: 'PRODUCTION', permission: 'MANAGER' },
    ];
    const role = await createRole(owner.token, org, { name: 'Partial', project_permissions: [{ project_id: project, permissions }] });
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.project_permissions).toEqual([{ project_id: project, project_name: 'Partial', is_admin: false, permissions }]);
  });

  it('replaces every list on PUT: entries left out are gone', async () => {
    const { owner, org, ids } = await seedOrg();
    const role = await createRole(owner.token, org, platformEngineers(ids));
    const put = await server.expect(200, 'PUT', `/orgs/${org}/roles/${role.id}`, {
      token: owner.token,
      payload: { name: 'Platform Engineers', project_permissions: [{ project_id: ids.product, is_admin: true }] },
    });
    expect(put.body).toMatchObject({
      description: '',
      cluster_permissions: [],
      project_permissions: [{ project_id: ids.product, project_name: 'Product', is_admin: true }],
      environment_permissions: [],
    });
  });

  it('renames a role with PUT and keeps its id', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Before' });
    const put = await server.expect(200, 'PUT', `/orgs/${org}/roles/${role.id}`, {
      token: owner.token,
      payload: { name: 'After', description: 'Renamed' },
    });
    expect(put.body).toMatchObject({ id: role.id, name: 'After', description: 'Renamed' });
    const list = await server.expect(200, 'GET', `/orgs/${org}/roles`, { token: owner.token });
    expect(list.body.items.map((r: { name: string }) => r.name)).toContain('After');
    expect(list.body.items.map((r: { name: string }) => r.name)).not.toContain('Before');
  });
});

describe('roles: validation and conflicts', () => {
  it('names the entry of an unknown project id with 400 (body.project_permissions[2].project_id)', async () => {
    const { owner, org, ids } = await seedOrg();
    const body = platformEngineers(ids);
    body.project_permissions[2]!.project_id = randomUUID();
    const response = await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: body });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.project_permissions[2].project_id' } });
  });

  it('names the entry of an unknown cluster id with 400', async () => {
    const { owner, org, ids } = await seedOrg();
    const body = platformEngineers(ids);
    body.cluster_permissions[1]!.cluster_id = randomUUID();
    const response = await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: body });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe('body.cluster_permissions[1].cluster_id');
  });

  it('names the entry of an unknown environment id with 400', async () => {
    const { owner, org } = await server.org();
    const slug = server.slug('p');
    await createProject(owner.token, org, 'Store', slug);
    const env = await createEnvironment(owner.token, org, slug, 'dev', 'DEVELOPMENT');
    const response = await server.request('POST', `/orgs/${org}/roles`, {
      token: owner.token,
      payload: {
        name: 'Envs',
        environment_permissions: [
          { environment_id: env, permissions: ['BASIC_VISIBILITY'] },
          { environment_id: randomUUID(), permissions: ['BASIC_VISIBILITY'] },
        ],
      },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe('body.environment_permissions[1].environment_id');
  });

  it("refuses the ids of another organization's cluster, project and environment with 400, on POST and PUT", async () => {
    const mine = await server.org();
    const theirs = await server.org();
    const slug = server.slug('p');
    const project = await createProject(theirs.owner.token, theirs.org, 'Theirs', slug);
    const cluster = await createCluster(theirs.owner.token, theirs.org, 'their cluster');
    const env = await createEnvironment(theirs.owner.token, theirs.org, slug, 'prod', 'PRODUCTION');
    const role = await createRole(mine.owner.token, mine.org, { name: 'Mine' });
    const bodies = [
      [{ name: 'X', project_permissions: [{ project_id: project, is_admin: true }] }, 'body.project_permissions[0].project_id'],
      [{ name: 'X', cluster_permissions: [{ cluster_id: cluster, permission: 'ADMIN' }] }, 'body.cluster_permissions[0].cluster_id'],
      [{ name: 'X', environment_permissions: [{ environment_id: env, permissions: ['ENVIRONMENT_ADMIN'] }] }, 'body.environment_permissions[0].environment_id'],
    ] as const;
    for (const [payload, field] of bodies) {
      for (const [method, url] of [
        ['POST', `/orgs/${mine.org}/roles`],
        ['PUT', `/orgs/${mine.org}/roles/${role.id}`],
      ] as const) {
        const response = await server.request(method, url, { token: mine.owner.token, payload });
        expect(response.status, `${method} ${field}`).toBe(400);
        expect(response.body.error.details.field).toBe(field);
      }
    }
    const got = await server.expect(200, 'GET', `/orgs/${mine.org}/roles/${role.id}`, { token: mine.owner.token });
    expect(got.body).toMatchObject({ name: 'Mine', project_permissions: [], cluster_permissions: [], environment_permissions: [] });
  });

  it.each([
    ['a cluster level', { cluster_permissions: [{ cluster_id: randomUUID(), permission: 'OWNER' }] }, /^body\.cluster_permissions(\[0\]|\.0)\.permission$/],
    [
      'a project level',
      { project_permissions: [{ project_id: randomUUID(), permissions: [{ environment_type: 'PRODUCTION', permission: 'SUPERUSER' }] }] },
      /^body\.project_permissions(\[0\]|\.0)\.permissions(\[0\]|\.0)\.permission$/,
    ],
    [
      'an environment type',
      { project_permissions: [{ project_id: randomUUID(), permissions: [{ environment_type: 'QA', permission: 'VIEWER' }] }] },
      /^body\.project_permissions(\[0\]|\.0)\.permissions(\[0\]|\.0)\.environment_type$/,
    ],
    [
      'a permission set',
      { environment_permissions: [{ environment_id: randomUUID(), permissions: ['BASIC_VISIBILITY', 'GOD_MODE'] }] },
      /^body\.environment_permissions(\[0\]|\.0)\.permissions(\[1\]|\.1)$/,
    ],
  ])('refuses an unknown name of %s with 400 naming the field', async (_label, lists, field) => {
    const { owner, org } = await server.org();
    const response = await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: { name: 'Bad', ...lists } });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.body.error.details.field).toMatch(field);
  });

  it('refuses an unknown field in an entry with 400 naming it', async () => {
    const { owner, org } = await server.org();
    const project = await createProject(owner.token, org, 'Store');
    const response = await server.request('POST', `/orgs/${org}/roles`, {
      token: owner.token,
      payload: { name: 'Bad', project_permissions: [{ project_id: project, is_admin: true, is_owner: true }] },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toMatch(/^body\.project_permissions(\[0\]|\.0)\.is_owner$/);
  });

  it('refuses a role without a name, or with a malformed id in an entry, with 400 and no 500', async () => {
    const { owner, org } = await server.org();
    const missing = await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: { description: 'nameless' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.field).toBe('body.name');
    const malformed = await server.request('POST', `/orgs/${org}/roles`, {
      token: owner.token,
      payload: { name: 'Bad', cluster_permissions: [{ cluster_id: 'not-a-uuid', permission: 'VIEWER' }] },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details.field).toMatch(/^body\.cluster_permissions(\[0\]|\.0)\.cluster_id$/);
  });

  it('refuses the same cluster, project or environment listed twice with 400 naming the second entry', async () => {
    const { owner, org } = await server.org();
    const slug = server.slug('p');
    const project = await createProject(owner.token, org, 'Store', slug);
    const cluster = await createCluster(owner.token, org, 'c');
    const env = await createEnvironment(owner.token, org, slug, 'dev', 'DEVELOPMENT');
    const bodies = [
      [{ cluster_permissions: [{ cluster_id: cluster, permission: 'VIEWER' }, { cluster_id: cluster, permission: 'ADMIN' }] }, 'body.cluster_permissions[1]'],
      [{ project_permissions: [{ project_id: project, is_admin: true }, { project_id: project, permissions: levels('VIEWER') }] }, 'body.project_permissions[1]'],
      [
        {
          environment_permissions: [
            { environment_id: env, permissions: ['OPS'] },
            { environment_id: env, permissions: ['TUNNEL'] },
          ],
        },
        'body.environment_permissions[1]',
      ],
    ] as const;
    for (const [lists, field] of bodies) {
      const response = await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: { name: 'Twice', ...lists } });
      expect(response.status, field).toBe(400);
      expect(response.body.error.details.field).toBe(field);
    }
  });

  it('refuses one permission set given twice in an environment entry with 400 naming its permissions', async () => {
    const { owner, org } = await server.org();
    const slug = server.slug('p');
    await createProject(owner.token, org, 'Store', slug);
    const env = await createEnvironment(owner.token, org, slug, 'dev', 'DEVELOPMENT');
    const response = await server.request('POST', `/orgs/${org}/roles`, {
      token: owner.token,
      payload: { name: 'Twice', environment_permissions: [{ environment_id: env, permissions: ['OPS', 'TUNNEL', 'OPS'] }] },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe('body.environment_permissions[0].permissions');
  });

  it('refuses one environment type given twice in a project entry with 400 naming it', async () => {
    const { owner, org } = await server.org();
    const project = await createProject(owner.token, org, 'Store');
    const response = await server.request('POST', `/orgs/${org}/roles`, {
      token: owner.token,
      payload: {
        name: 'Twice',
        project_permissions: [
          {
            project_id: project,
            permissions: [
              { environment_type: 'STAGING', permission: 'VIEWER' },
              { environment_type: 'STAGING', permission: 'ADMIN' },
            ],
          },
        ],
      },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe('body.project_permissions[0].permissions[1]');
  });

  it('refuses a duplicate role name with 409, on POST and on a PUT renaming another role', async () => {
    const { owner, org } = await server.org();
    await createRole(owner.token, org, { name: 'Support' });
    const other = await createRole(owner.token, org, { name: 'Other' });
    const created = await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: { name: 'Support' } });
    expect(created.status).toBe(409);
    expect(created.body.error).toMatchObject({ code: 'CONFLICT', details: { field: 'name' } });
    const renamed = await server.request('PUT', `/orgs/${org}/roles/${other.id}`, { token: owner.token, payload: { name: 'Support' } });
    expect(renamed.status).toBe(409);
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${other.id}`, { token: owner.token });
    expect(got.body.name).toBe('Other');
  });

  it('compares role names without regard to case: "SUPPORT" beside "Support" is a 409, a role may change its own case', async () => {
    const { owner, org } = await server.org();
    const support = await createRole(owner.token, org, { name: 'Support' });
    const other = await createRole(owner.token, org, { name: 'Other' });
    const created = await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: { name: 'SUPPORT' } });
    expect(created.status).toBe(409);
    expect(created.body.error.details.field).toBe('name');
    await server.expect(409, 'PUT', `/orgs/${org}/roles/${other.id}`, { token: owner.token, payload: { name: 'support' } });
    const recased = await server.expect(200, 'PUT', `/orgs/${org}/roles/${support.id}`, { token: owner.token, payload: { name: 'SUPPORT' } });
    expect(recased.body).toMatchObject({ id: support.id, name: 'SUPPORT' });
  });

  it('accepts the same role name in two organizations, and a PUT keeping its own name', async () => {
    const a = await server.org();
    const b = await server.org();
    const role = await createRole(a.owner.token, a.org, { name: 'Support' });
    await createRole(b.owner.token, b.org, { name: 'Support' });
    await server.expect(200, 'PUT', `/orgs/${a.org}/roles/${role.id}`, { token: a.owner.token, payload: { name: 'Support', description: 'x' } });
  });

  it.each(['ADMIN', 'admin', 'Owner', 'VIEWER', 'api_user', 'Custom'])('refuses a role named like the system role (or role marker) %s with 400 naming body.name', async (name) => {
    const { owner, org } = await server.org();
    const response = await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: { name } });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.name' } });
  });

  it('refuses to rename a custom role to a system role name with 400', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Fine' });
    const response = await server.request('PUT', `/orgs/${org}/roles/${role.id}`, { token: owner.token, payload: { name: 'Admin' } });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe('body.name');
  });

  it('refuses to replace or delete a system role with 409, and it stays as it was', async () => {
    const { owner, org } = await server.org();
    const before = await server.expect(200, 'GET', `/orgs/${org}/roles/ADMIN`, { token: owner.token });
    const put = await server.request('PUT', `/orgs/${org}/roles/ADMIN`, { token: owner.token, payload: { name: 'Renamed admin' } });
    expect(put.status).toBe(409);
    expect(put.body.error.code).toBe('CONFLICT');
    for (const role of SYSTEM_ROLES) {
      const deleted = await server.request('DELETE', `/orgs/${org}/roles/${role}`, { token: owner.token });
      expect(deleted.status, role).toBe(409);
    }
    const after = await server.expect(200, 'GET', `/orgs/${org}/roles/ADMIN`, { token: owner.token });
    expect(after.body).toEqual(before.body);
  });

  it('answers 404 to PUT and DELETE of an unknown role id', async () => {
    const { owner, org } = await server.org();
    const id = randomUUID();
    await server.expect(404, 'PUT', `/orgs/${org}/roles/${id}`, { token: owner.token, payload: { name: 'Ghost' } });
    await server.expect(404, 'DELETE', `/orgs/${org}/roles/${id}`, { token: owner.token });
  });
});

describe('roles: assignment and deletion', () => {
  it('deletes a custom role nobody holds with 204, after which it answers 404 and is not listed', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Short-lived' });
    const deleted = await server.expect(204, 'DELETE', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(deleted.raw.body).toBe('');
    await server.expect(404, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    const list = await server.expect(200, 'GET', `/orgs/${org}/roles`, { token: owner.token });
    expect(list.body.items.map((r: { id: string }) => r.id)).toEqual(SYSTEM_ROLES);
  });

  it('assigns a custom role with PATCH /members/{user_id} {role_id}, shown in the members list', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Support' });
    const member = await server.user('member');
    await server.join(owner.token, org, member, 'VIEWER');
    const patched = await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, {
      token: owner.token,
      payload: { role_id: role.id },
    });
    expect(patched.body).toEqual({ user_id: member.id, role: 'CUSTOM', role_id: role.id, role_name: 'Support' });
    const members = await server.expect(200, 'GET', `/orgs/${org}/members`, { token: owner.token });
    expect(members.body.items.find((m: { user_id: string }) => m.user_id === member.id)).toMatchObject({
      role: 'CUSTOM',
      role_id: role.id,
      role_name: 'Support',
    });
  });

  it('shows the new name of a renamed role in the members list', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Before' });
    const member = await server.user('member');
    await server.join(owner.token, org, member, 'VIEWER');
    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role_id: role.id } });
    await server.expect(200, 'PUT', `/orgs/${org}/roles/${role.id}`, { token: owner.token, payload: { name: 'After' } });
    const members = await server.expect(200, 'GET', `/orgs/${org}/members`, { token: owner.token });
    expect(members.body.items.find((m: { user_id: string }) => m.user_id === member.id)).toMatchObject({ role: 'CUSTOM', role_id: role.id, role_name: 'After' });
  });

  it("refuses to assign another organization's custom role with 400 naming body.role_id", async () => {
    const { owner, org } = await server.org();
    const theirs = await server.org();
    const role = await createRole(theirs.owner.token, theirs.org, { name: 'Theirs' });
    const member = await server.user('member');
    await server.join(owner.token, org, member, 'VIEWER');
    const response = await server.request('PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role_id: role.id } });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe('body.role_id');
  });

  it('refuses to delete a role a member holds with 409, and deletes it once they hold another', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Held' });
    const member = await server.user('member');
    await server.join(owner.token, org, member, 'VIEWER');
    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role_id: role.id } });

    const refused = await server.request('DELETE', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'CONFLICT', details: { members: 1 } });
    await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });

    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role: 'VIEWER' } });
    await server.expect(204, 'DELETE', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
  });

  it('lets a role be deleted once its only holder has left the organization', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Held' });
    const member = await server.user('member');
    await server.join(owner.token, org, member, 'VIEWER');
    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role_id: role.id } });
    await server.expect(204, 'DELETE', `/orgs/${org}/members/${member.id}`, { token: member.token });
    await server.expect(204, 'DELETE', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
  });
});

describe('roles: references to deleted resources', () => {
  it('removes a deleted project from the roles that listed it, keeping the other entries in order', async () => {
    const { owner, org } = await server.org();
    const doomed = server.slug('p');
    const first = await createProject(owner.token, org, 'First');
    const middle = await createProject(owner.token, org, 'Doomed', doomed);
    const last = await createProject(owner.token, org, 'Last');
    const role = await createRole(owner.token, org, {
      name: 'Projects',
      project_permissions: [first, middle, last].map((project_id) => ({ project_id, is_admin: true })),
    });
    await server.expect(204, 'DELETE', `/orgs/${org}/projects/${doomed}`, { token: owner.token });
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.project_permissions.map((p: { project_id: string }) => p.project_id)).toEqual([first, last]);
  });

  it('removes a deleted cluster from the roles that listed it', async () => {
    const { owner, org } = await server.org();
    const kept = await createCluster(owner.token, org, 'kept');
    const doomed = await createCluster(owner.token, org, 'doomed');
    const role = await createRole(owner.token, org, {
      name: 'Clusters',
      cluster_permissions: [
        { cluster_id: doomed, permission: 'ADMIN' },
        { cluster_id: kept, permission: 'VIEWER' },
      ],
    });
    await server.expect(204, 'DELETE', `/orgs/${org}/clusters/${doomed}`, { token: owner.token });
    const got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.cluster_permissions).toEqual([{ cluster_id: kept, cluster_name: 'kept', permission: 'VIEWER' }]);
  });

  it('removes a deleted environment from the roles that listed it, and those of a deleted project', async () => {
    const { owner, org } = await server.org();
    const slug = server.slug('p');
    await createProject(owner.token, org, 'Store', slug);
    const dev = await createEnvironment(owner.token, org, slug, 'dev', 'DEVELOPMENT');
    const prod = await createEnvironment(owner.token, org, slug, 'prod', 'PRODUCTION');
    const role = await createRole(owner.token, org, {
      name: 'Envs',
      environment_permissions: [
        { environment_id: dev, permissions: ['OPS'] },
        { environment_id: prod, permissions: ['TUNNEL'] },
      ],
    });
    await server.expect(204, 'DELETE', `/orgs/${org}/projects/${slug}/environments/dev`, { token: owner.token });
    let got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.environment_permissions.map((e: { environment_id: string }) => e.environment_id)).toEqual([prod]);

    await server.expect(204, 'DELETE', `/orgs/${org}/projects/${slug}`, { token: owner.token });
    got = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(got.body.environment_permissions).toEqual([]);
  });
});

describe('roles: security', () => {
  it("shows a custom role's lists only to those who manage roles: they name places others may not see", async () => {
    const { owner, org } = await server.org();
    const hidden = await createProject(owner.token, org, 'Secret Project');
    const role = await createRole(owner.token, org, { name: 'Insiders', project_permissions: [{ project_id: hidden, is_admin: true }] });
    const viewer = await server.user('viewer');
    await server.join(owner.token, org, viewer, 'VIEWER');
    const seen = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: viewer.token });
    expect(seen.body).toEqual({ id: role.id, name: 'Insiders', description: '', system: false, created_at: expect.any(String), updated_at: expect.any(String) });
    const full = await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: owner.token });
    expect(full.body.project_permissions[0]).toMatchObject({ project_id: hidden, project_name: 'Secret Project' });
  });

  it('refuses an environment entry that grants no permission set, and names with surrounding spaces', async () => {
    const { owner, org } = await server.org();
    const project = server.slug('p');
    await createProject(owner.token, org, 'P', project);
    const env = await createEnvironment(owner.token, org, project, 'prod', 'PRODUCTION');
    const empty = await server.request('POST', `/orgs/${org}/roles`, {
      token: owner.token,
      payload: { name: 'Empty', environment_permissions: [{ environment_id: env, permissions: [] }] },
    });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details.field).toBe('body.environment_permissions[0].permissions');
    const spaced = await server.request('POST', `/orgs/${org}/roles`, { token: owner.token, payload: { name: ' ADMIN ' } });
    expect(spaced.status).toBe(400);
    expect(spaced.body.error.details.field).toBe('body.name');
  });

  it('refuses a VIEWER creating, replacing or deleting roles with 403 naming member:manage, and changes nothing', async () => {
    const { owner, org } = await server.org();
    const role = await createRole(owner.token, org, { name: 'Untouched' });
    const viewer = await server.user('viewer');
    await server.join(owner.token, org, viewer, 'VIEWER');
    const routes = [
      ['POST', `/orgs/${org}/roles`, { name: 'Sneaky' }],
      ['PUT', `/orgs/${org}/roles/${role.id}`, { name: 'Sneaky' }],
      ['DELETE', `/orgs/${org}/roles/${role.id}`],
    ] as const;
    for (const [method, url, payload] of routes) {
      const response = await server.request(method, url, { token: viewer.token, payload });
      expect(response.status, method).toBe(403);
      expect(response.body.error).toMatchObject({ code: 'FORBIDDEN', details: { action: 'member:manage' } });
    }
    const list = await server.expect(200, 'GET', `/orgs/${org}/roles`, { token: owner.token });
    expect(list.body.items.map((r: { name: string }) => r.name)).toEqual([...SYSTEM_ROLES, 'Untouched']);
  });

  it('lets an ADMIN manage roles', async () => {
    const { owner, org } = await server.org();
    const admin = await server.user('admin');
    await server.join(owner.token, org, admin, 'ADMIN');
    const role = await createRole(admin.token, org, { name: 'By admin' });
    await server.expect(200, 'PUT', `/orgs/${org}/roles/${role.id}`, { token: admin.token, payload: { name: 'By admin, edited' } });
    await server.expect(204, 'DELETE', `/orgs/${org}/roles/${role.id}`, { token: admin.token });
  });

  it('refuses a member of a custom role managing roles, even its own, with 403', async () => {
    const { owner, org } = await server.org();
    const project = await createProject(owner.token, org, 'Store');
    const role = await createRole(owner.token, org, { name: 'Project admins', project_permissions: [{ project_id: project, is_admin: true }] });
    const member = await server.user('member');
    await server.join(owner.token, org, member, 'VIEWER');
    await server.expect(200, 'PATCH', `/orgs/${org}/members/${member.id}`, { token: owner.token, payload: { role_id: role.id } });
    await server.expect(200, 'GET', `/orgs/${org}/roles/${role.id}`, { token: member.token });
    const response = await server.request('PUT', `/orgs/${org}/roles/${role.id}`, { token: member.token, payload: { name: 'Project admins' } });
    expect(response.status).toBe(403);
    expect(response.body.error.details.action).toBe('member:manage');
    await server.expect(403, 'POST', `/orgs/${org}/roles`, { token: member.token, payload: { name: 'Escalated' } });
  });
});
