import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { f, ask, answer } from '../../../test/fixtures/check.js';

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
