import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { server, orgUrl, projectUrl, envUrl, svcUrl, idOf, define, withCustomRole, expectError } from '../../../test/fixtures/resolve.js';

/** `?explain=true`: where each key of a resolution comes from, without any secret in the answer. */
type Explained = {
  variables: { key: string; value: string; type: string; scope: string; variable_id: string | null; masked: boolean; overrides: { scope: string; variable_id: string | null }[]; references: string[] }[];
  pg_services: { service: string; user?: string; password?: string; port?: number; scope: string; variable_id: string; overrides: { scope: string; variable_id: string }[] }[];
  omitted: string[];
  omitted_reasons: { key: string; reason: string }[];
};

const explain = async (place: string, token: string, member?: string) => {
  const response = await server.expect(200, 'GET', `${place}/resolve?explain=true${member ? `&member=${member}` : ''}`, { token });
  return { body: response.body as Explained, raw: response.raw.body };
};

describe('resolve ?explain=true', () => {
  it('names the winning scope and every lower scope it overrides, highest first, and the keys each value references', async () => {
    const { owner, org } = await server.tree();
    const ids = {
      organization: await define(orgUrl(org), owner.token, { key: 'LEVEL', value: 'organization' }),
      project: await define(projectUrl(org), owner.token, { key: 'LEVEL', value: 'project' }),
      environment: await define(envUrl(org), owner.token, { key: 'LEVEL', value: 'environment' }),
      service: await define(svcUrl(org), owner.token, { key: 'LEVEL', value: 'service' }),
    };
    await define(envUrl(org), owner.token, { key: 'GREETING', value: 'at ${LEVEL} via ${COFFER_APPLICATION_BACKEND_URL}, literal $${LEVEL}' });
    const { body } = await explain(svcUrl(org), owner.token);
    const level = body.variables.find((v) => v.key === 'LEVEL')!;
    expect(level).toMatchObject({ value: 'service', scope: 'service', variable_id: ids.service, masked: false, references: [] });
    expect(level.overrides).toEqual([
      { scope: 'environment', variable_id: ids.environment },
      { scope: 'project', variable_id: ids.project },
      { scope: 'organization', variable_id: ids.organization },
    ]);
    const greeting = body.variables.find((v) => v.key === 'GREETING')!;
    expect(greeting).toMatchObject({ value: 'at service via https://backend.internal, literal ${LEVEL}', scope: 'environment', overrides: [] });
    expect(greeting.references).toEqual(['LEVEL', 'COFFER_APPLICATION_BACKEND_URL']);
    expect(body.variables.find((v) => v.key === 'COFFER_APPLICATION_BACKEND_URL')).toMatchObject({ scope: 'builtin', variable_id: null, overrides: [] });
    // At the environment the service's definition does not count.
    const atEnvironment = await explain(envUrl(org), owner.token);
    expect(atEnvironment.body.variables.find((v) => v.key === 'LEVEL')).toMatchObject({ scope: 'environment', overrides: [{ scope: 'project' }, { scope: 'organization' }] });
  });

  it('masks secrets, plain values a secret was expanded into, and pg_service credentials; a builtin overridden by a variable is listed', async () => {
    const { owner, org } = await server.tree();
    const SECRET = `canary_secret_${randomBytes(12).toString('hex')}`;
    const PG_PASSWORD = `pgpw-${randomBytes(6).toString('hex')}`;
    await define(svcUrl(org), owner.token, { key: 'API_KEY', value: SECRET, type: 'secret' });
    await define(envUrl(org), owner.token, { key: 'WRAPPED', value: '[${API_KEY}]' });
    await define(envUrl(org), owner.token, { key: 'TWICE', value: '(${WRAPPED})' });
    await define(envUrl(org), owner.token, { key: 'COFFER_APPLICATION_BACKEND_URL', value: 'https://override.internal' });
    const orgPg = await define(orgUrl(org), owner.token, { type: 'pg_service', pg_service: { service: 'ninja', user: 'ninja_org', password: PG_PASSWORD } });
    const projectPg = await define(projectUrl(org), owner.token, { type: 'pg_service', pg_service: { service: 'ninja', user: 'ninja_project', password: PG_PASSWORD, port: 5433 } });
    const { body, raw } = await explain(svcUrl(org), owner.token);
    expect(raw).not.toContain(SECRET);
    expect(raw).not.toContain(PG_PASSWORD);
    expect(raw).not.toContain('ninja_project');
    const byKey = Object.fromEntries(body.variables.map((v) => [v.key, v]));
    expect(byKey.API_KEY).toMatchObject({ masked: true, value: `${SECRET.slice(0, 3)}********${SECRET.slice(-3)}` });
    expect(byKey.WRAPPED).toMatchObject({ type: 'plain', masked: true, value: `[${SECRET.slice(0, 2)}********${SECRET.slice(-2)}]`, references: ['API_KEY'] });
    expect(byKey.TWICE).toMatchObject({ masked: true, references: ['WRAPPED'] });
    expect(byKey.COFFER_APPLICATION_BACKEND_URL).toMatchObject({ value: 'https://override.internal', scope: 'environment', overrides: [{ scope: 'builtin', variable_id: null }] });
    expect(body.pg_services).toEqual([
      { service: 'ninja', port: 5433, user: '********', password: '********', extra: {}, scope: 'project', variable_id: projectPg, overrides: [{ scope: 'organization', variable_id: orgPg }] },
    ]);
    // The clear resolution is unchanged by an explained one cached beside it.
    const clear = await server.expect(200, 'GET', `${svcUrl(org)}/resolve`, { token: owner.token });
    expect(clear.raw.body).toContain(SECRET);
    expect(clear.body.variables[0]).not.toHaveProperty('overrides');
  });

  it('shows a member-assigned pg_service winning for that member only (seed 002), through ?member=', async () => {
    const { owner, org } = await server.tree();
    const alice = await server.member(owner.token, org, 'DEVOPS');
    await define(orgUrl(org), owner.token, { type: 'pg_service', pg_service: { service: 'ninja', user: 'ninja_org' } });
    await define(projectUrl(org), owner.token, { type: 'pg_service', pg_service: { service: 'ninja', user: 'ninja_project' } });
    const assigned = await define(projectUrl(org), owner.token, { type: 'pg_service', pg_service: { service: 'ninja', user: 'ninja_user' }, assignee_user_id: alice.id });
    expect((await explain(svcUrl(org), owner.token)).body.pg_services[0]).toMatchObject({ scope: 'project', overrides: [{ scope: 'organization' }] });
    const forAlice = (await explain(svcUrl(org), owner.token, alice.id)).body.pg_services[0]!;
    expect(forAlice).toMatchObject({ scope: 'member', variable_id: assigned, overrides: [{ scope: 'project' }, { scope: 'organization' }] });
  });

  it('says why each left-out key is left out', async () => {
    const { owner, org } = await server.tree();
    const K = (output: string) => `COFFER_DATABASE_MY_POSTGRES_${output}`;
    await server.expect(201, 'POST', `${envUrl(org)}/services`, { token: owner.token, payload: { slug: 'my-postgres', kind: 'database', outputs: { host: 'pg.internal', username: 'shop_app', password: 'pw-not-real-0000' } } });
    await define(envUrl(org), owner.token, { key: 'DATABASE_URL', type: 'secret', value: `postgres://\${${K('USERNAME')}}@\${${K('HOST')}}` });
    const productionId = await idOf(envUrl(org), owner.token);
    const member = await withCustomRole(owner.token, org, { environment_permissions: [{ environment_id: productionId, permissions: ['FULL_VISIBILITY'] }] });
    const { body } = await explain(svcUrl(org), member.token);
    expect(body.omitted).toEqual(['DATABASE_URL', K('PASSWORD'), K('USERNAME')].sort());
    const reasons = Object.fromEntries(body.omitted_reasons.map((r) => [r.key, r.reason]));
    expect(reasons[K('PASSWORD')]).toBe('a database credential of service my-postgres: reading it needs database:read_credentials there');
    expect(reasons.DATABASE_URL).toContain(`references \${${K('USERNAME')}}, which is left out`);
  });

  it('refuses explain with another format (400 naming explain) and without secret:decrypt (403)', async () => {
    const { owner, org } = await server.tree();
    const refused = await server.request('GET', `${svcUrl(org)}/resolve?explain=true&format=dotenv`, { token: owner.token });
    expectError(refused, 400, 'VALIDATION_FAILED');
    expect(refused.body.error.message).toContain('explain');
    const viewer = await server.member(owner.token, org, 'VIEWER');
    expectError(await server.request('GET', `${svcUrl(org)}/resolve?explain=true`, { token: viewer.token }), 403, 'FORBIDDEN');
  });
});
