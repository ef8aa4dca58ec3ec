import { describe, expect, it } from 'vitest';
import { f, ask, answer } from '../../../test/fixtures/check.js';

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
