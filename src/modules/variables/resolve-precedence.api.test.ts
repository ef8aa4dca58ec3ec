import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { server, scratch, type User, orgUrl, projectUrl, envUrl, svcUrl, define, remove, resolved, valueAt, expectError } from '../../../test/fixtures/resolve.js';

describe('precedence end to end', () => {
  it('gives the service value to a token, the member value to the assigned member, the environment value to an environment resolve, and falls back level by level', async () => {
    const { owner, org } = await server.tree();
    const alice = await server.member(owner.token, org, 'DEVOPS');
    const bob = await server.member(owner.token, org, 'DEVOPS');
    const ci = (await server.mint(owner.token, org, { preset: 'ci' })).token;

    const ids = {
      organization: await define(orgUrl(org), owner.token, { key: 'LEVEL', value: 'organization' }),
      project: await define(projectUrl(org), owner.token, { key: 'LEVEL', value: 'project' }),
      environment: await define(envUrl(org), owner.token, { key: 'LEVEL', value: 'environment', type: 'secret' }),
      service: await define(svcUrl(org), owner.token, { key: 'LEVEL', value: 'service' }),
      member: await define(projectUrl(org), owner.token, { key: 'LEVEL', value: 'member', assignee_user_id: alice.id }),
    };

    expect(await valueAt(svcUrl(org), ci, 'LEVEL')).toEqual({ key: 'LEVEL', value: 'service', type: 'plain', scope: 'service', variable_id: ids.service });
    expect(await valueAt(svcUrl(org), alice.token, 'LEVEL')).toEqual({ key: 'LEVEL', value: 'member', type: 'plain', scope: 'member', variable_id: ids.member });
    expect(await valueAt(svcUrl(org), bob.token, 'LEVEL')).toMatchObject({ value: 'service', scope: 'service' });
    expect(await valueAt(envUrl(org), ci, 'LEVEL')).toEqual({ key: 'LEVEL', value: 'environment', type: 'secret', scope: 'environment', variable_id: ids.environment });
    expect(await valueAt(envUrl(org), alice.token, 'LEVEL')).toMatchObject({ value: 'member', scope: 'member' });
    expect(await valueAt(envUrl(org), bob.token, 'LEVEL')).toMatchObject({ value: 'environment', scope: 'environment' });

    await remove(svcUrl(org), ids.service, owner.token);
    expect(await valueAt(svcUrl(org), ci, 'LEVEL')).toMatchObject({ value: 'environment', scope: 'environment', variable_id: ids.environment });
    expect(await valueAt(svcUrl(org), alice.token, 'LEVEL')).toMatchObject({ value: 'member', scope: 'member' });

    await remove(envUrl(org), ids.environment, owner.token);
    expect(await valueAt(svcUrl(org), ci, 'LEVEL')).toMatchObject({ value: 'project', scope: 'project', variable_id: ids.project });
    expect(await valueAt(envUrl(org), ci, 'LEVEL')).toMatchObject({ value: 'project', scope: 'project' });
    // The assigned value is alice's only: another member gets the project value.
    expect(await valueAt(svcUrl(org), bob.token, 'LEVEL')).toMatchObject({ value: 'project', scope: 'project' });
    expect(await valueAt(svcUrl(org), owner.token, 'LEVEL')).toMatchObject({ value: 'project', scope: 'project' });
    expect(await valueAt(svcUrl(org), alice.token, 'LEVEL')).toMatchObject({ value: 'member', scope: 'member' });

    await remove(projectUrl(org), ids.member, owner.token);
    expect(await valueAt(svcUrl(org), alice.token, 'LEVEL')).toMatchObject({ value: 'project', scope: 'project' });

    await remove(projectUrl(org), ids.project, owner.token);
    expect(await valueAt(svcUrl(org), alice.token, 'LEVEL')).toMatchObject({ value: 'organization', scope: 'organization', variable_id: ids.organization });
    expect(await valueAt(envUrl(org), ci, 'LEVEL')).toMatchObject({ value: 'organization', scope: 'organization' });

    await remove(orgUrl(org), ids.organization, owner.token);
    expect(await valueAt(svcUrl(org), ci, 'LEVEL')).toBeUndefined();
    expect(await valueAt(svcUrl(org), alice.token, 'LEVEL')).toBeUndefined();
  });

  it('lets a member-assigned value override the service level for that member only', async () => {
    const { owner, org } = await server.tree();
    const alice = await server.member(owner.token, org, 'DEVOPS');
    await define(svcUrl(org), owner.token, { key: 'DB_ROLE', value: 'service-role' });
    await define(projectUrl(org), owner.token, { key: 'DB_ROLE', value: 'alice-role', type: 'secret', assignee_user_id: alice.id });
    expect(await valueAt(svcUrl(org), alice.token, 'DB_ROLE')).toMatchObject({ value: 'alice-role', scope: 'member', type: 'secret' });
    expect(await valueAt(svcUrl(org), owner.token, 'DB_ROLE')).toMatchObject({ value: 'service-role', scope: 'service' });
  });

  it('refuses to assign a variable to a user who is not a member, and outside the project level', async () => {
    const { owner, org } = await server.tree();
    const stranger = await server.user('stranger');
    const notMember = await server.request('POST', `${projectUrl(org)}/variables`, { token: owner.token, payload: { key: 'X', value: 'x', assignee_user_id: stranger.id } });
    expectError(notMember, 400, 'VALIDATION_FAILED');
    const atEnvironment = await server.request('POST', `${envUrl(org)}/variables`, { token: owner.token, payload: { key: 'X', value: 'x', assignee_user_id: owner.id } });
    expectError(atEnvironment, 400, 'VALIDATION_FAILED');
  });
});

describe('?member=', () => {
  it('lets the owner (authz:check) resolve on behalf of a member and get their assigned value', async () => {
    const { owner, org } = await server.tree();
    const alice = await server.member(owner.token, org, 'DEVOPS');
    const bob = await server.member(owner.token, org, 'DEVOPS');
    await define(projectUrl(org), owner.token, { key: 'WHO', value: 'everyone' });
    await define(projectUrl(org), owner.token, { key: 'WHO', value: 'alice', assignee_user_id: alice.id });
    await define(projectUrl(org), owner.token, { key: 'WHO', value: 'the owner', assignee_user_id: owner.id });

    expect(await valueAt(svcUrl(org), owner.token, 'WHO', { member: alice.id })).toMatchObject({ value: 'alice', scope: 'member' });
    expect(await valueAt(envUrl(org), owner.token, 'WHO', { member: alice.id })).toMatchObject({ value: 'alice', scope: 'member' });
    expect(await valueAt(svcUrl(org), owner.token, 'WHO', { member: bob.id })).toMatchObject({ value: 'everyone', scope: 'project' });
    expect(await valueAt(svcUrl(org), owner.token, 'WHO')).toMatchObject({ value: 'the owner', scope: 'member' });
    // Naming oneself needs nothing more.
    expect(await valueAt(svcUrl(org), alice.token, 'WHO', { member: alice.id })).toMatchObject({ value: 'alice' });
  });

  it('refuses a member without authz:check asking for another member with 403 naming authz:check', async () => {
    const { owner, org } = await server.tree();
    await server.expect(201, 'POST', `${projectUrl(org)}/environments`, { token: owner.token, payload: { slug: 'staging', type: 'STAGING' } });
    await server.expect(201, 'POST', `${envUrl(org, 'staging')}/services`, { token: owner.token, payload: { slug: 'backend', kind: 'application' } });
    const alice = await server.member(owner.token, org, 'DEVOPS');
    const developer = await server.member(owner.token, org, 'DEVELOPER');
    const devops = await server.member(owner.token, org, 'DEVOPS');
    await define(projectUrl(org), owner.token, { key: 'WHO', value: 'alice', assignee_user_id: alice.id });

    // DEVELOPER may decrypt in STAGING, so only authz:check is missing.
    await server.expect(200, 'GET', `${svcUrl(org, 'staging')}/resolve?member=${developer.id}`, { token: developer.token });
    const asDeveloper = await server.request('GET', `${svcUrl(org, 'staging')}/resolve?member=${alice.id}`, { token: developer.token });
    expectError(asDeveloper, 403, 'FORBIDDEN');
    expect(asDeveloper.body.error.details.action).toBe('authz:check');
    expect(asDeveloper.raw.body).not.toContain('"alice"');

    const asDevops = await server.request('GET', `${svcUrl(org)}/resolve?member=${alice.id}`, { token: devops.token });
    expectError(asDevops, 403, 'FORBIDDEN');
    expect(asDevops.body.error.details.action).toBe('authz:check');

    const ci = (await server.mint(owner.token, org, { preset: 'ci' })).token;
    const asToken = await server.request('GET', `${svcUrl(org)}/resolve?member=${alice.id}`, { token: ci });
    expectError(asToken, 403, 'FORBIDDEN');
    expect(asToken.body.error.details.action).toBe('authz:check');
  });

  it('answers 404 for an unknown member id or a user who is not a member, and 400 for one that is not a uuid', async () => {
    const { owner, org } = await server.tree();
    expectError(await server.request('GET', `${svcUrl(org)}/resolve?member=${randomUUID()}`, { token: owner.token }), 404, 'NOT_FOUND');
    const stranger = await server.user('stranger');
    expectError(await server.request('GET', `${svcUrl(org)}/resolve?member=${stranger.id}`, { token: owner.token }), 404, 'NOT_FOUND');
    expect((await server.request('GET', `${svcUrl(org)}/resolve?member=not-a-uuid`, { token: owner.token })).status).toBe(400);
  });
});

describe('pg_service entries (seed 002)', () => {
  const PSQL = '/usr/bin/psql';
  /** The environment without PG* variables, so only the service file configures libpq. */
  const cleanEnv = (extra: Record<string, string>) => ({
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG'))),
    ...extra,
  });
  const psql = (args: string[], env: Record<string, string> = {}) => spawnSync(PSQL, args, { env: cleanEnv({ PGCONNECT_TIMEOUT: '3', ...env }), encoding: 'utf8', timeout: 15_000 });
  const admin = (statement: string) => psql(['-h', '127.0.0.1', '-p', '5432', '-U', 'postgres', '-d', 'test', '-v', 'ON_ERROR_STOP=1', '-Atc', statement]);
  const available = existsSync(PSQL) && admin('select 1').stdout?.trim() === '1';
  // CI always has the server: there a missing one must fail the test, not skip it.
  const skipLibpq = !available && process.env.CI !== 'true';

  const suffix = randomBytes(4).toString('hex');
  const ROLES = { organization: `coffer_ninja_org_${suffix}`, project: `coffer_ninja_project_${suffix}`, member: `coffer_ninja_user_${suffix}` };
  const created: string[] = [];
  beforeAll(() => {
    if (!available) return;
    for (const role of Object.values(ROLES)) {
      const result = admin(`create role ${role} login`);
      if (result.status !== 0) throw new Error(`create role ${role}: ${result.stderr}`);
      created.push(role);
    }
  });
  afterAll(() => {
    // Only the roles this file created.
    for (const role of created) admin(`drop role if exists ${role}`);
  });

  const entry = (user: string) => ({ type: 'pg_service', pg_service: { service: 'ninja', user, host: '127.0.0.1', port: 5432, dbname: 'test', sslmode: 'disable' } });

  /** org → A, + project → B, + assigned to U → C for U only; `check` runs at each step for U and for someone else. */
  async function scenario(check: (org: string, as: { user: User; expected: string }[]) => Promise<void>) {
    const { owner, org } = await server.tree();
    const u = await server.member(owner.token, org, 'DEVOPS');
    const other = await server.member(owner.token, org, 'DEVOPS');
    await define(orgUrl(org), owner.token, entry(ROLES.organization));
    await check(org, [
      { user: u, expected: ROLES.organization },
      { user: other, expected: ROLES.organization },
    ]);
    // The project entry through the "advanced editor": the raw text of a section.
    await define(projectUrl(org), owner.token, {
      type: 'pg_service',
      value: `[ninja]\nhost=127.0.0.1\nport=5432\ndbname=test\nuser=${ROLES.project}\nsslmode=disable\n`,
    });
    await check(org, [
      { user: u, expected: ROLES.project },
      { user: other, expected: ROLES.project },
    ]);
    await define(projectUrl(org), owner.token, { ...entry(ROLES.member), assignee_user_id: u.id });
    await check(org, [
      { user: u, expected: ROLES.member },
      { user: other, expected: ROLES.project },
    ]);
    return { owner, org, u };
  }

  it('merges by service name: organization only → A, + project → B, + user-assigned → C for that user only (json pg_services)', async () => {
    const { owner, org, u } = await scenario(async (orgSlug, cases) => {
      for (const { user, expected } of cases) {
        const body = await resolved(svcUrl(orgSlug), user.token);
        expect(body.pg_services).toHaveLength(1);
        expect(body.pg_services[0]).toMatchObject({ service: 'ninja', user: expected, host: '127.0.0.1', port: 5432, dbname: 'test', sslmode: 'disable' });
        const scope = expected === ROLES.organization ? 'organization' : expected === ROLES.project ? 'project' : 'member';
        expect(body.pg_services[0]!.scope, expected).toBe(scope);
        // pg_service entries are not variables.
        expect(body.variables.map((v) => v.key)).toEqual(['COFFER_APPLICATION_BACKEND_URL']);
      }
    });
    // The owner, on U's behalf, gets U's entry.
    const onBehalf = await resolved(svcUrl(org), owner.token, { member: u.id });
    expect(onBehalf.pg_services[0]).toMatchObject({ user: ROLES.member, scope: 'member' });
    expect((await resolved(svcUrl(org), owner.token)).pg_services[0]).toMatchObject({ user: ROLES.project, scope: 'project' });
  });

  it.skipIf(skipLibpq)('hands libpq a service file through which psql connects as the winning role at each step', async () => {
    let step = 0;
    await scenario(async (orgSlug, cases) => {
      for (const { user, expected } of cases) {
        const response = await server.expect(200, 'GET', `${svcUrl(orgSlug)}/resolve?format=pg_service`, { token: user.token });
        expect(response.headers['content-type']).toMatch(/^text\/plain/);
        const file = join(scratch, `pg_service-${++step}.conf`);
        writeFileSync(file, response.raw.body);
        const connected = psql(['service=ninja', '-Atc', 'select current_user'], { PGSERVICEFILE: file });
        expect(connected.stderr).toBe('');
        expect(connected.stdout).toBe(`${expected}\n`);
      }
    });
  });
});
