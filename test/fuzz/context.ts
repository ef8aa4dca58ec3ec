import type { TestServer } from '../harness.js';

/**
 * A realistic organization to aim at, so path parameters can be valid (the request reaches
 * the service) or hostile one at a time: an owner with a session, a member, a pending
 * invitation, a custom role, a cluster, a variable at each level, an audit event, and two
 * API tokens (one limited to shop/production, one organization-wide).
 */
export interface FuzzContext {
  owner: { token: string; id: string; email: string };
  member: { token: string; id: string };
  org: string;
  /** A second session of the owner's, whose id DELETE /me/sessions/{id} can aim at without signing the fuzzer out. */
  spareSessionId: string;
  invitation: { id: string; token: string };
  roleId: string;
  clusterId: string;
  projectId: string;
  environmentId: string;
  eventId: string;
  /** Variable ids by level: organization, project, environment, service. */
  variables: Record<'organization' | 'project' | 'environment' | 'service', string>;
  pathToken: { token: string; id: string };
  wideToken: { token: string; id: string };
}

const PASSWORD = 'correct horse battery staple';

export async function createContext(server: TestServer): Promise<FuzzContext> {
  const { owner, org } = await server.tree('fuzz-owner');
  const as = { token: owner.token };
  const member = await server.member(owner.token, org, 'DEVELOPER');
  const spare = await server.expect(200, 'POST', '/auth/login', { payload: { email: owner.email, password: PASSWORD } });
  const sessions = await server.expect(200, 'GET', '/me/sessions', { token: spare.body.token });
  const spareSession = (sessions.body.items as { id: string; current?: boolean }[]).find((s) => s.current) ?? sessions.body.items[0];
  const invitation = await server.expect(201, 'POST', `/orgs/${org}/invitations`, { ...as, payload: { email: server.email('invitee'), role: 'VIEWER' } });
  const cluster = await server.expect(201, 'POST', `/orgs/${org}/clusters`, { ...as, payload: { name: 'fuzz-cluster', region: 'eu-west-1' } });
  const project = await server.expect(200, 'GET', `/orgs/${org}/projects/shop`, as);
  const environment = await server.expect(200, 'GET', `/orgs/${org}/projects/shop/environments/production`, as);
  const role = await server.expect(201, 'POST', `/orgs/${org}/roles`, {
    ...as,
    payload: { name: 'fuzz-role', project_permissions: [{ project_id: project.body.id, permissions: [{ environment_type: 'PRODUCTION', permission: 'VIEWER' }] }] },
  });
  const bases = {
    organization: `/orgs/${org}`,
    project: `/orgs/${org}/projects/shop`,
    environment: `/orgs/${org}/projects/shop/environments/production`,
    service: `/orgs/${org}/projects/shop/environments/production/services/backend`,
  };
  const variables = {} as FuzzContext['variables'];
  for (const [level, base] of Object.entries(bases) as [keyof typeof bases, string][]) {
    const created = await server.expect(201, 'POST', `${base}/variables`, {
      ...as,
      payload: { key: `FUZZ_${level.toUpperCase()}`, type: 'secret', value: 's3cr3t-value-for-tests' },
    });
    variables[level] = created.body.id;
  }
  const pathToken = await server.expect(201, 'POST', `/orgs/${org}/tokens`, { ...as, payload: { name: 'fuzz-ci', preset: 'ci', path: 'shop/production' } });
  const wideToken = await server.expect(201, 'POST', `/orgs/${org}/tokens`, { ...as, payload: { name: 'fuzz-wide', scopes: ['*'] } });
  const events = await server.expect(200, 'GET', `/orgs/${org}/audit-events?limit=1`, as);
  return {
    owner,
    member,
    org,
    spareSessionId: spareSession.id,
    invitation: { id: invitation.body.id, token: invitation.body.token },
    roleId: role.body.id,
    clusterId: cluster.body.id,
    projectId: project.body.id,
    environmentId: environment.body.id,
    eventId: events.body.items[0].id,
    variables,
    pathToken: { token: pathToken.body.token, id: pathToken.body.id },
    wideToken: { token: wideToken.body.token, id: wideToken.body.id },
  };
}

/** Whether the context still works for its owner and tokens (a fuzzed request may have changed it). */
export async function contextHealthy(server: TestServer, context: FuzzContext): Promise<boolean> {
  // A signed-out owner (POST /auth/logout) only needs to sign in again.
  if ((await server.request('GET', '/me', { token: context.owner.token })).status === 401) {
    const login = await server.request('POST', '/auth/login', { payload: { email: context.owner.email, password: PASSWORD } });
    if (login.status !== 200) return false;
    context.owner.token = login.body.token;
  }
  const checks = await Promise.all([
    server.request('GET', `/orgs/${context.org}/projects/shop/environments/production/services/backend`, { token: context.owner.token }),
    server.request('GET', '/token', { token: context.pathToken.token }),
    server.request('GET', '/token', { token: context.wideToken.token }),
  ]);
  return checks.every((response) => response.status === 200);
}

/** The realistic value of a path parameter, by its name and the operation's path. */
export function pathValue(context: FuzzContext, name: string, path: string): string | undefined {
  if (name === 'id') {
    const level = path.includes('{service}') ? 'service' : path.includes('{env}') ? 'environment' : path.includes('{project}') ? 'project' : 'organization';
    return context.variables[level];
  }
  const values: Record<string, string> = {
    org: context.org,
    project: 'shop',
    env: 'production',
    service: 'backend',
    user_id: context.member.id,
    role_id: context.roleId,
    cluster_id: context.clusterId,
    invitation_id: context.invitation.id,
    token: context.invitation.token,
    token_id: context.pathToken.id,
    session_id: context.spareSessionId,
    event_id: context.eventId,
  };
  return Object.hasOwn(values, name) ? values[name] : undefined;
}
