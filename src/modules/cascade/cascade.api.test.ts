import { describe, expect, it } from 'vitest';
import { expectError, useTestServer } from '../../../test/harness.js';

const server = useTestServer();

describe('what a delete removes (…/cascade)', () => {
  it('counts the environments, services and live variables a project, an environment and a service take with them', async () => {
    const { owner, org } = await server.tree();
    const token = owner.token;
    const project = `/orgs/${org}/projects/shop`;
    const production = `${project}/environments/production`;
    await server.expect(201, 'POST', `${project}/environments`, { token, payload: { slug: 'staging', type: 'STAGING' } });
    await server.expect(201, 'POST', `${project}/environments/staging/services`, { token, payload: { slug: 'worker', kind: 'job' } });
    await server.expect(201, 'POST', `${project}/variables`, { token, payload: { key: 'A', value: 'a' } });
    await server.expect(201, 'POST', `${production}/variables`, { token, payload: { key: 'B', value: 'b' } });
    await server.expect(201, 'POST', `${production}/services/backend/variables`, { token, payload: { key: 'C', value: 'c' } });
    const gone = await server.expect(201, 'POST', `${production}/services/backend/variables`, { token, payload: { key: 'D', value: 'd' } });
    await server.expect(204, 'DELETE', `${production}/services/backend/variables/${gone.body.id}`, { token });
    // Another organization's rows never count.
    const other = await server.tree();
    await server.expect(201, 'POST', `/orgs/${other.org}/projects/shop/variables`, { token: other.owner.token, payload: { key: 'A', value: 'a' } });

    expect((await server.expect(200, 'GET', `${project}/cascade`, { token })).body).toEqual({ environments: 2, services: 2, variables: 3 });
    expect((await server.expect(200, 'GET', `${production}/cascade`, { token })).body).toEqual({ environments: 1, services: 1, variables: 2 });
    expect((await server.expect(200, 'GET', `${production}/services/backend/cascade`, { token })).body).toEqual({ environments: 0, services: 1, variables: 1 });
  });

  it('answers only those who may delete it: 403 naming the action for a DEVELOPER in production, 404 for another organization', async () => {
    const { owner, org } = await server.tree();
    const developer = await server.member(owner.token, org, 'DEVELOPER');
    const refused = await server.request('GET', `/orgs/${org}/projects/shop/environments/production/cascade`, { token: developer.token });
    expectError(refused, 403, 'FORBIDDEN');
    expect(refused.body.error.details.action).toBe('environment:delete');
    expectError(await server.request('GET', `/orgs/${org}/projects/shop/cascade`, { token: developer.token }), 403, 'FORBIDDEN');
    const stranger = await server.tree();
    expectError(await server.request('GET', `/orgs/${org}/projects/shop/cascade`, { token: stranger.owner.token }), 404, 'NOT_FOUND');
  });
});
