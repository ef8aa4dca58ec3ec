import { describe, expect, it } from 'vitest';
import { f, ask, answer, expectAnswers, type Expected } from '../../../test/fixtures/check.js';

const cluster = () => `cluster:${f.clusterId}`;

/** Each behaviour, and the questions (with their exact answers) that show it. */
const BEHAVIOURS: Record<string, () => Expected[]> = {
  'answers about the organization when no resource is given, naming the granting system role': () => [
    ['DEVOPS', 'organization:setup', undefined, true, 'granted by system role DEVOPS'],
    ['owner', 'organization:delete', undefined, true, 'granted by system role OWNER'],
  ],
  'says which system role does not grant an organization action': () => [
    ['VIEWER', 'audit:read', undefined, false, 'system role VIEWER does not grant audit:read'],
    ['ADMIN', 'organization:delete', undefined, false, 'system role ADMIN does not grant organization:delete'],
  ],
  'answers about a project, by name': () => [
    ['VIEWER', 'project:read', 'shop', true, 'granted by system role VIEWER on every project'],
    ['VIEWER', 'project:write', 'shop', false, 'no grant of project:write on project shop (system role VIEWER)'],
  ],
  'answers an environment action asked of a project as "on some environment of it"': () => [
    ['DEVELOPER', 'environment:create', 'shop', true, 'granted by system role DEVELOPER on every project'],
    ['VIEWER', 'environment:create', 'shop', false, 'no grant of environment:create on any environment of project shop (system role VIEWER)'],
  ],
  'answers about an environment by its type, naming the granting role': () => [
    ['DEVOPS', 'deployment:trigger', 'shop/production', true, 'granted by system role DEVOPS on PRODUCTION environments of every project'],
    ['DEVELOPER', 'deployment:trigger', 'shop/development', true, 'granted by system role DEVELOPER on DEVELOPMENT environments of every project'],
  ],
  'says a DEVELOPER has no grant of deployment:trigger on PRODUCTION environments': () => [
    ['DEVELOPER', 'deployment:trigger', 'shop/production', false, 'no grant of deployment:trigger on PRODUCTION environments of project shop (system role DEVELOPER)'],
  ],
  'answers about a service by its environment': () => [
    ['DEVOPS', 'shell:connect', 'shop/production/backend', true, 'granted by system role DEVOPS on PRODUCTION environments of every project'],
    ['VIEWER', 'secret:decrypt', 'shop/production/backend', false, 'no grant of secret:decrypt on PRODUCTION environments of project shop (system role VIEWER)'],
  ],
  'answers about a cluster named as cluster:<id>': () => [
    ['VIEWER', 'cluster:read', cluster(), true, 'granted by system role VIEWER on every cluster'],
    ['VIEWER', 'cluster:write', cluster(), false, 'no grant of cluster:write on cluster main (system role VIEWER)'],
    ['DEVOPS', 'cluster:write', cluster(), true, 'granted by system role DEVOPS on every cluster'],
  ],
  'says where an action is checked when it is asked of the wrong kind of resource': () => [
    ['owner', 'cluster:read', undefined, false, 'cluster:read is checked against a cluster: name one as "cluster:<id>"'],
    ['owner', 'project:read', undefined, false, 'project:read is checked against a project: name one as "project"'],
    ['owner', 'secret:write', cluster(), false, 'secret:write is checked against an environment: name one as "project/environment"'],
  ],
  'answers organization actions whatever resource is named': () => [['AUDITOR', 'audit:read', 'shop/production', true, 'granted by system role AUDITOR']],
};

describe('asking about yourself, system roles', () => {
  it.each(Object.entries(BEHAVIOURS))('%s', async (_behaviour, rows) => {
    await expectAnswers(rows());
  });

  it('answers 404 about resources the asker cannot see, so their existence does not leak', async () => {
    const billing = f.members.BILLING_MANAGER;
    for (const resource of ['shop', 'shop/production', 'shop/production/backend', cluster()]) {
      const response = await ask(billing, { action: 'secret:read', resource });
      expect(response.status, resource).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
    expect(await answer(billing, { action: 'billing:manage' })).toMatchObject({ allowed: true, reason: 'granted by system role BILLING_MANAGER' });
  });
});
