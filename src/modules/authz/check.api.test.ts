import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { TestServer, useTestServer } from '../../../test/harness.js';

/**
 * POST /orgs/{org}/authz/check (SPEC §2.4): anyone may ask about themselves; asking about
 * another principal needs authz:check; the reason names the granting role, level or set,
 * or says why nothing granted it. Every test here only asks questions, so they share one
 * organization.
 */

const server = useTestServer();

type User = Awaited<ReturnType<TestServer['user']>>;

const SYSTEM_MEMBERS = ['VIEWER', 'DEVOPS', 'DEVELOPER', 'AUDITOR', 'ADMIN', 'BILLING_MANAGER'] as const;
type SystemMember = (typeof SYSTEM_MEMBERS)[number];

interface Fixture {
  org: string;
  owner: User;
  clusterId: string;
  members: Record<SystemMember, User>;
  /** Holds custom role 'Platform Engineers': DEPLOYER on DEVELOPMENT, VIEWER on PRODUCTION of shop, ENV_CREATOR on main, TUNNEL on staging. */
  engineer: User;
  /** Holds custom role 'Shop Admins': is_admin on shop. */
  shopAdmin: User;
  stranger: User;
}

let f: Fixture;

/** shop/{development, staging, production}, production/backend, cluster main, a member per role. */
beforeAll(async () => {
  const { owner, org } = await server.tree('owner');
  const token = owner.token;
  const environments: Record<string, string> = {};
  for (const [slug, type] of [
    ['development', 'DEVELOPMENT'],
    ['staging', 'STAGING'],
  ] as const) {
    environments[slug] = (await server.expect(201, 'POST', `/orgs/${org}/projects/shop/environments`, { token, payload: { slug, type } })).body.id;
  }
  const projectId = (await server.expect(200, 'GET', `/orgs/${org}/projects/shop`, { token })).body.id;
  const clusterId = (await server.expect(201, 'POST', `/orgs/${org}/clusters`, { token, payload: { name: 'main' } })).body.id;

  const members = {} as Record<SystemMember, User>;
  for (const role of SYSTEM_MEMBERS) {
    members[role] = await server.user(role.toLowerCase());
    await server.join(token, org, members[role], role);
  }

  const platform = await server.expect(201, 'POST', `/orgs/${org}/roles`, {
    token,
    payload: {
      name: 'Platform Engineers',
      cluster_permissions: [{ cluster_id: clusterId, permission: 'ENV_CREATOR' }],
      project_permissions: [
        {
          project_id: projectId,
          is_admin: false,
          permissions: [
            { environment_type: 'DEVELOPMENT', permission: 'DEPLOYER' },
            { environment_type: 'PRODUCTION', permission: 'VIEWER' },
          ],
        },
      ],
      environment_permissions: [{ environment_id: environments.staging, permissions: ['TUNNEL'] }],
    },
  });
  const shopAdmins = await server.expect(201, 'POST', `/orgs/${org}/roles`, {
    token,
    payload: { name: 'Shop Admins', project_permissions: [{ project_id: projectId, is_admin: true }] },
  });
  const engineer = await server.user('engineer');
  const shopAdmin = await server.user('shop-admin');
  for (const [user, roleId] of [
    [engineer, platform.body.id],
    [shopAdmin, shopAdmins.body.id],
  ] as const) {
    await server.join(token, org, user, 'VIEWER');
    await server.expect(200, 'PATCH', `/orgs/${org}/members/${user.id}`, { token, payload: { role_id: roleId } });
  }
  f = { org, owner, clusterId, members, engineer, shopAdmin, stranger: await server.user('stranger') };
});

function ask(user: User, payload: Record<string, unknown>) {
  return server.request('POST', `/orgs/${f.org}/authz/check`, { token: user.token, payload });
}

/** Asks and expects a 200 answer about `subject` (the asker unless given). */
async function answer(user: User, payload: Record<string, unknown>, subject: User = user) {
  const response = await ask(user, payload);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.body.user_id).toBe(subject.id);
  return response.body as { allowed: boolean; reason: string; user_id: string };
}

describe('asking about yourself, system roles', () => {
  it('answers about the organization when no resource is given, naming the granting system role', async () => {
    expect(await answer(f.members.DEVOPS, { action: 'organization:setup' })).toEqual({
      allowed: true,
      reason: 'granted by system role DEVOPS',
      user_id: f.members.DEVOPS.id,
    });
    expect(await answer(f.owner, { action: 'organization:delete' })).toMatchObject({ allowed: true, reason: 'granted by system role OWNER' });
  });

  it('says which system role does not grant an organization action', async () => {
    expect(await answer(f.members.VIEWER, { action: 'audit:read' })).toEqual({
      allowed: false,
      reason: 'system role VIEWER does not grant audit:read',
      user_id: f.members.VIEWER.id,
    });
    expect(await answer(f.members.ADMIN, { action: 'organization:delete' })).toMatchObject({
      allowed: false,
      reason: 'system role ADMIN does not grant organization:delete',
    });
  });

  it('answers about a project, by name', async () => {
    expect(await answer(f.members.VIEWER, { action: 'project:read', resource: 'shop' })).toMatchObject({
      allowed: true,
      reason: 'granted by system role VIEWER on every project',
    });
    expect(await answer(f.members.VIEWER, { action: 'project:write', resource: 'shop' })).toMatchObject({
      allowed: false,
      reason: 'no grant of project:write on project shop (system role VIEWER)',
    });
  });

  it('answers an environment action asked of a project as "on some environment of it"', async () => {
    expect(await answer(f.members.DEVELOPER, { action: 'environment:create', resource: 'shop' })).toMatchObject({
      allowed: true,
      reason: 'granted by system role DEVELOPER on every project',
    });
    expect(await answer(f.members.VIEWER, { action: 'environment:create', resource: 'shop' })).toMatchObject({
      allowed: false,
      reason: 'no grant of environment:create on any environment of project shop (system role VIEWER)',
    });
  });

  it('answers about an environment by its type, naming the granting role', async () => {
    expect(await answer(f.members.DEVOPS, { action: 'deployment:trigger', resource: 'shop/production' })).toMatchObject({
      allowed: true,
      reason: 'granted by system role DEVOPS on PRODUCTION environments of every project',
    });
    expect(await answer(f.members.DEVELOPER, { action: 'deployment:trigger', resource: 'shop/development' })).toMatchObject({
      allowed: true,
      reason: 'granted by system role DEVELOPER on DEVELOPMENT environments of every project',
    });
  });

  it('says a DEVELOPER has no grant of deployment:trigger on PRODUCTION environments', async () => {
    expect(await answer(f.members.DEVELOPER, { action: 'deployment:trigger', resource: 'shop/production' })).toEqual({
      allowed: false,
      reason: 'no grant of deployment:trigger on PRODUCTION environments of project shop (system role DEVELOPER)',
      user_id: f.members.DEVELOPER.id,
    });
  });

  it('answers about a service by its environment', async () => {
    expect(await answer(f.members.DEVOPS, { action: 'shell:connect', resource: 'shop/production/backend' })).toMatchObject({
      allowed: true,
      reason: 'granted by system role DEVOPS on PRODUCTION environments of every project',
    });
    expect(await answer(f.members.VIEWER, { action: 'secret:decrypt', resource: 'shop/production/backend' })).toMatchObject({
      allowed: false,
      reason: 'no grant of secret:decrypt on PRODUCTION environments of project shop (system role VIEWER)',
    });
  });

  it('answers about a cluster named as cluster:<id>', async () => {
    const resource = `cluster:${f.clusterId}`;
    expect(await answer(f.members.VIEWER, { action: 'cluster:read', resource })).toMatchObject({
      allowed: true,
      reason: 'granted by system role VIEWER on every cluster',
    });
    expect(await answer(f.members.VIEWER, { action: 'cluster:write', resource })).toMatchObject({
      allowed: false,
      reason: 'no grant of cluster:write on cluster main (system role VIEWER)',
    });
    expect(await answer(f.members.DEVOPS, { action: 'cluster:write', resource })).toMatchObject({
      allowed: true,
      reason: 'granted by system role DEVOPS on every cluster',
    });
  });

  it('says where an action is checked when it is asked of the wrong kind of resource', async () => {
    const owner = f.owner;
    expect(await answer(owner, { action: 'cluster:read' })).toMatchObject({
      allowed: false,
      reason: 'cluster:read is checked against a cluster: name one as "cluster:<id>"',
    });
    expect(await answer(owner, { action: 'project:read' })).toMatchObject({
      allowed: false,
      reason: 'project:read is checked against a project: name one as "project"',
    });
    expect(await answer(owner, { action: 'secret:write', resource: `cluster:${f.clusterId}` })).toMatchObject({
      allowed: false,
      reason: 'secret:write is checked against an environment: name one as "project/environment"',
    });
  });

  it('answers organization actions whatever resource is named', async () => {
    expect(await answer(f.members.AUDITOR, { action: 'audit:read', resource: 'shop/production' })).toMatchObject({
      allowed: true,
      reason: 'granted by system role AUDITOR',
    });
  });

  it('answers 404 about resources the asker cannot see, so their existence does not leak', async () => {
    const billing = f.members.BILLING_MANAGER;
    for (const resource of ['shop', 'shop/production', 'shop/production/backend', `cluster:${f.clusterId}`]) {
      const response = await ask(billing, { action: 'secret:read', resource });
      expect(response.status, resource).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
    expect(await answer(billing, { action: 'billing:manage' })).toMatchObject({ allowed: true, reason: 'granted by system role BILLING_MANAGER' });
  });
});

describe('asking about yourself, custom roles', () => {
  it("names the custom role and its level on the environment's type", async () => {
    expect(await answer(f.engineer, { action: 'deployment:trigger', resource: 'shop/development' })).toEqual({
      allowed: true,
      reason: "granted by custom role 'Platform Engineers': DEPLOYER on DEVELOPMENT in project shop",
      user_id: f.engineer.id,
    });
    expect(await answer(f.engineer, { action: 'secret:read', resource: 'shop/production/backend' })).toMatchObject({
      allowed: true,
      reason: "granted by custom role 'Platform Engineers': VIEWER on PRODUCTION in project shop",
    });
  });

  it('says the custom role has no grant on environments of a type its level does not cover', async () => {
    expect(await answer(f.engineer, { action: 'deployment:trigger', resource: 'shop/production' })).toMatchObject({
      allowed: false,
      reason: "no grant of deployment:trigger on PRODUCTION environments of project shop (custom role 'Platform Engineers')",
    });
  });

  it('names the level that makes the project visible', async () => {
    expect(await answer(f.engineer, { action: 'project:read', resource: 'shop' })).toMatchObject({
      allowed: true,
      reason: "granted by custom role 'Platform Engineers': DEPLOYER on DEVELOPMENT in project shop",
    });
    expect(await answer(f.engineer, { action: 'project:write', resource: 'shop' })).toMatchObject({
      allowed: false,
      reason: "no grant of project:write on project shop (custom role 'Platform Engineers')",
    });
  });

  it('names the permission set granted on one environment', async () => {
    expect(await answer(f.engineer, { action: 'tunnel:create', resource: 'shop/staging' })).toMatchObject({
      allowed: true,
      reason: "granted by custom role 'Platform Engineers': TUNNEL on environment staging of project shop",
    });
    expect(await answer(f.engineer, { action: 'secret:read', resource: 'shop/staging' })).toMatchObject({ allowed: false });
  });

  it('names the level granted on a cluster', async () => {
    expect(await answer(f.engineer, { action: 'cluster:deploy', resource: `cluster:${f.clusterId}` })).toMatchObject({
      allowed: true,
      reason: "granted by custom role 'Platform Engineers': ENV_CREATOR on cluster main",
    });
    expect(await answer(f.engineer, { action: 'cluster:write', resource: `cluster:${f.clusterId}` })).toMatchObject({
      allowed: false,
      reason: "no grant of cluster:write on cluster main (custom role 'Platform Engineers')",
    });
  });

  it('names is_admin on the project', async () => {
    expect(await answer(f.shopAdmin, { action: 'project:write', resource: 'shop' })).toMatchObject({
      allowed: true,
      reason: "granted by custom role 'Shop Admins': is_admin on project shop",
    });
    expect(await answer(f.shopAdmin, { action: 'backup:restore', resource: 'shop/production' })).toMatchObject({
      allowed: true,
      reason: "granted by custom role 'Shop Admins': is_admin on project shop",
    });
  });

  it('grants every custom-role member organization:read and no other organization action', async () => {
    expect(await answer(f.engineer, { action: 'organization:read' })).toMatchObject({
      allowed: true,
      reason: "granted to every member of custom role 'Platform Engineers'",
    });
    expect(await answer(f.engineer, { action: 'token:manage' })).toMatchObject({
      allowed: false,
      reason: 'custom roles never grant organization-level actions such as token:manage',
    });
  });
});

describe('asking about another user', () => {
  it('refuses a VIEWER with 403 naming authz:check', async () => {
    const response = await ask(f.members.VIEWER, { principal: { user_id: f.members.ADMIN.id }, action: 'organization:read' });
    expect(response.status).toBe(403);
    expect(response.body.error).toMatchObject({ code: 'FORBIDDEN', details: { action: 'authz:check' } });
  });

  it('refuses a DEVELOPER with 403 naming authz:check, even about a user who is not a member', async () => {
    const response = await ask(f.members.DEVELOPER, { principal: { user_id: f.stranger.id }, action: 'organization:read' });
    expect(response.status).toBe(403);
    expect(response.body.error.details.action).toBe('authz:check');
  });

  it('lets anyone name themselves as the principal without authz:check', async () => {
    const viewer = f.members.VIEWER;
    expect(await answer(viewer, { principal: { user_id: viewer.id }, action: 'secret:read', resource: 'shop/production' })).toMatchObject({
      allowed: true,
      reason: 'granted by system role VIEWER on PRODUCTION environments of every project',
    });
  });

  it("lets an AUDITOR ask, answering with the other member's own grants", async () => {
    const developer = f.members.DEVELOPER;
    const payload = { principal: { user_id: developer.id }, action: 'deployment:trigger' };
    expect(await answer(f.members.AUDITOR, { ...payload, resource: 'shop/production' }, developer)).toEqual({
      allowed: false,
      reason: 'no grant of deployment:trigger on PRODUCTION environments of project shop (system role DEVELOPER)',
      user_id: developer.id,
    });
    expect(await answer(f.members.AUDITOR, { ...payload, resource: 'shop/staging' }, developer)).toMatchObject({
      allowed: true,
      reason: 'granted by system role DEVELOPER on STAGING environments of every project',
    });
  });

  it('lets an ADMIN ask about a system-role member and a custom-role member', async () => {
    const admin = f.members.ADMIN;
    expect(
      await answer(admin, { principal: { user_id: f.members.DEVOPS.id }, action: 'shell:connect', resource: 'shop/production/backend' }, f.members.DEVOPS),
    ).toMatchObject({ allowed: true, reason: 'granted by system role DEVOPS on PRODUCTION environments of every project' });
    expect(
      await answer(admin, { principal: { user_id: f.engineer.id }, action: 'deployment:trigger', resource: 'shop/development' }, f.engineer),
    ).toMatchObject({ allowed: true, reason: "granted by custom role 'Platform Engineers': DEPLOYER on DEVELOPMENT in project shop" });
  });

  it('answers allowed false, not 404, when the other member cannot see a resource the asker can', async () => {
    const billing = f.members.BILLING_MANAGER;
    expect(await answer(f.members.ADMIN, { principal: { user_id: billing.id }, action: 'project:read', resource: 'shop' }, billing)).toMatchObject({
      allowed: false,
      reason: 'no grant of project:read on project shop (system role BILLING_MANAGER)',
    });
  });

  it('answers allowed false about a user who is not a member, and about an id nobody has', async () => {
    for (const subject of [f.stranger.id, randomUUID()]) {
      for (const resource of [undefined, 'shop/production']) {
        const response = await ask(f.owner, { principal: { user_id: subject }, action: 'organization:read', resource });
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ allowed: false, reason: `not a member of organization ${f.org}`, user_id: subject });
      }
    }
  });
});

describe('authz/check errors', () => {
  it('refuses an unknown action with 400 naming body.action', async () => {
    for (const action of ['secret:frobnicate', 'SECRET:READ', 'read']) {
      const response = await ask(f.owner, { action });
      expect(response.status, action).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.action' } });
    }
  });

  it('refuses a request without an action with 400 naming body.action', async () => {
    const response = await ask(f.owner, { resource: 'shop' });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe('body.action');
  });

  it('refuses a malformed resource with 400 naming body.resource', async () => {
    for (const resource of ['shop/production/backend/extra', 'Shop', 'shop/', 'shop//backend', '/shop', 'shop production', '']) {
      const response = await ask(f.owner, { action: 'secret:read', resource });
      expect(response.status, resource).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.resource' } });
    }
  });

  it('answers 404 to an unknown project, environment, service or cluster', async () => {
    for (const [resource, what] of [
      ['nope', 'Project'],
      ['nope/production', 'Project'],
      ['shop/nope', 'Environment'],
      ['shop/production/nope', 'Service'],
      [`cluster:${randomUUID()}`, 'Cluster'],
      ['cluster:not-a-uuid', 'Cluster'],
    ]) {
      const response = await ask(f.owner, { action: 'secret:read', resource });
      expect(response.status, resource).toBe(404);
      expect(response.body.error).toMatchObject({ code: 'NOT_FOUND', message: `${what} not found` });
    }
  });

  it('refuses a malformed principal with 400 naming the field', async () => {
    for (const [principal, field] of [
      [{}, 'body.principal'],
      [{ user_id: f.members.VIEWER.id, token_id: randomUUID() }, 'body.principal'],
      [{ user_id: 'not-a-uuid' }, 'body.principal.user_id'],
      [{ token_id: 'not-a-uuid' }, 'body.principal.token_id'],
      [{ email: f.members.VIEWER.email }, 'body.principal.email'],
    ] as const) {
      const response = await ask(f.owner, { principal, action: 'organization:read' });
      expect(response.status, JSON.stringify(principal)).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field } });
    }
  });

  it('needs authz:check to ask about a token, and answers 404 to one that does not exist', async () => {
    const payload = { principal: { token_id: randomUUID() }, action: 'secret:read', resource: 'shop/production' };
    const viewer = await ask(f.members.VIEWER, payload);
    expect(viewer.status).toBe(403);
    expect(viewer.body.error.details.action).toBe('authz:check');
    const owner = await ask(f.owner, payload);
    expect(owner.status).toBe(404);
    expect(owner.body.error.code).toBe('NOT_FOUND');
  });
});
