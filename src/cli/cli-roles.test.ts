import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { server, fresh, coffer, ok } from '../../test/cli.js';
import { CLUSTER_LEVEL_ACTIONS, ENVIRONMENT_SET_ACTIONS, PROJECT_LEVEL_ACTIONS } from '../modules/authz/levels.js';
import { withoutTrailingCommas } from './role-file.js';

/** Seed 001's platformengineer.json, its stray trailing comma kept, with this organization's names for its ids. */
const PLATFORM_ENGINEERS = `{
"name": "Platform Engineers",
"description": "Role for all Platform Engineers",
"cluster_permissions": [
{ "cluster_id": "eks staging", "cluster_name": "eks staging", "permission": "ADMIN" },
{ "cluster_name": "production", "permission": "ENV_CREATOR" }
],
"project_permissions": [
{
"project_id": "console-v3",
"project_name": "Console V3",
"is_admin": true,
},
{
"project_id": "Marketing",
"project_name": "Marketing",
"is_admin": false,
"permissions": [
{ "environment_type": "DEVELOPMENT", "permission": "VIEWER" },
{ "environment_type": "PREVIEW", "permission": "VIEWER" },
{ "environment_type": "STAGING", "permission": "VIEWER" },
{ "environment_type": "PRODUCTION", "permission": "VIEWER" }
]
},
{
"project_name": "Product",
"is_admin": false,
"permissions": [
{ "environment_type": "DEVELOPMENT", "permission": "DEPLOYER" },
{ "environment_type": "PRODUCTION", "permission": "NO_ACCESS" }
]
}
],
"environment_permissions": [
{ "environment_id": "product/production", "permissions": ["BASIC_VISIBILITY", "TUNNEL"] }
]
}`;

async function organization() {
  const { owner, org } = await server.org();
  const token = owner.token;
  for (const [slug, name] of [['console-v3', 'Console V3'], ['marketing', 'Marketing'], ['product', 'Product']]) {
    await server.expect(201, 'POST', `/orgs/${org}/projects`, { token, payload: { slug, name } });
  }
  await server.expect(201, 'POST', `/orgs/${org}/projects/product/environments`, { token, payload: { slug: 'production', type: 'PRODUCTION' } });
  await server.expect(201, 'POST', `/orgs/${org}/projects/product/environments`, { token, payload: { slug: 'dev', type: 'DEVELOPMENT' } });
  await ok(['clusters', 'create', 'eks staging'], { token });
  await ok(['clusters', 'create', 'production', '--region', 'eu-west-1'], { token });
  return { owner, org, token };
}

describe('coffer roles create, show, edit, rm', () => {
  it("takes seed 001's JSON with names and slugs for ids (and its trailing comma), and shows it back by name", async () => {
    const { org, token } = await organization();
    const file = fresh('platform.json');
    fs.writeFileSync(file, PLATFORM_ENGINEERS);
    const created = await ok(['roles', 'create', '--file', file], { token });
    expect(created.stderr).toContain(`Created custom role "Platform Engineers" in ${org}`);

    const shown = await ok(['roles', 'show', 'platform engineers'], { token });
    expect(shown.stdout).toContain('Role "Platform Engineers" (custom): Role for all Platform Engineers');
    expect(shown.stdout).toMatch(/^ {2}Console V3: is_admin/m);
    expect(shown.stdout).toMatch(/^ {2}Marketing: DEVELOPMENT=VIEWER PREVIEW=VIEWER STAGING=VIEWER PRODUCTION=VIEWER$/m);
    expect(shown.stdout).toMatch(/^ {2}Product: .*DEVELOPMENT=DEPLOYER/m);
    expect(shown.stdout).toMatch(/^ {2}Product\/production: BASIC_VISIBILITY, TUNNEL$/m);
    expect(shown.stdout).toMatch(/^ {2}eks staging: ADMIN$/m);
    expect(shown.stdout).toMatch(/^ {2}production: ENV_CREATOR$/m);

    const json = JSON.parse((await ok(['roles', 'show', 'Platform Engineers', '--json'], { token })).stdout) as Record<string, unknown>;
    expect(json).not.toHaveProperty('id');
    const projects = (await server.expect(200, 'GET', `/orgs/${org}/projects`, { token })).body.items as { id: string; slug: string }[];
    const idOf = (slug: string) => projects.find((p) => p.slug === slug)!.id;
    expect(json.project_permissions).toEqual(
      expect.arrayContaining([expect.objectContaining({ project_id: idOf('console-v3'), project_name: 'Console V3', is_admin: true })]),
    );

    // What show --json prints, edit takes back unchanged.
    const roundTrip = fresh('round.json');
    fs.writeFileSync(roundTrip, JSON.stringify(json));
    await ok(['roles', 'edit', 'Platform Engineers', '--file', roundTrip], { token });
    expect(JSON.parse((await ok(['roles', 'show', 'Platform Engineers', '--json'], { token })).stdout)).toEqual(json);
  });

  it('reads the file from stdin, edits (and renames) by name, and rm deletes by name', async () => {
    const { org, token } = await organization();
    await ok(['roles', 'create', '--file', '-'], { token, input: JSON.stringify({ name: 'qa', project_permissions: [{ project_id: 'product', permissions: [{ environment_type: 'DEVELOPMENT', permission: 'VIEWER' }] }] }) });
    await ok(['roles', 'edit', 'QA', '--file', '-'], {
      token,
      input: JSON.stringify({ name: 'qa-team', project_permissions: [{ project_id: 'product', permissions: [{ environment_type: 'DEVELOPMENT', permission: 'MANAGER' }] }] }),
    });
    expect((await ok(['roles', 'show', 'qa-team'], { token })).stdout).toMatch(/Product: DEVELOPMENT=MANAGER/);
    expect((await coffer(['roles', 'show', 'qa'], { token })).stderr).toContain(`Role "qa" not found in organization "${org}"`);
    const listed = await ok(['roles', 'ls'], { token });
    expect(listed.stdout).toMatch(/^qa-team\s+false/m);
    expect(listed.stdout).toMatch(/^VIEWER\s+true/m);
    expect((await ok(['roles', 'rm', 'qa-team'], { token })).stderr).toContain(`Deleted custom role "qa-team" from ${org}`);
    expect((await coffer(['roles', 'rm', 'qa-team'], { token })).code).toBe(5);
  });

  it('names the project, environment or cluster a role file refers to that does not exist, and the entry', async () => {
    const { org, token } = await organization();
    const cases: [unknown, string][] = [
      [{ name: 'x', project_permissions: [{ project_id: 'shop', is_admin: true }] }, `Project "shop" not found in organization "${org}" (project_permissions[0])`],
      [{ name: 'x', cluster_permissions: [{ cluster_id: 'gke', permission: 'VIEWER' }] }, `Cluster "gke" not found in organization "${org}" (cluster_permissions[0])`],
      [{ name: 'x', environment_permissions: [{ environment_id: 'product/qa', permissions: ['TUNNEL'] }] }, `Environment "product/qa" not found in organization "${org}" (environment_permissions[0])`],
    ];
    for (const [role, message] of cases) {
      const result = await coffer(['roles', 'create', '--file', '-'], { token, input: JSON.stringify(role) });
      expect(result.code, message).toBe(5);
      expect(result.stderr).toContain(message);
    }
    const notJson = await coffer(['roles', 'create', '--file', '-'], { token, input: '{"name": ' });
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('The role file stdin is not JSON');
    const missing = await coffer(['roles', 'create', '--file', fresh('missing.json')], { token });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--file: cannot read .*missing\.json-\d+.*there is no such file/);
    expect(missing.stderr).not.toContain('ENOENT');
    const badLevel = await coffer(['roles', 'create', '--file', '-'], { token, input: JSON.stringify({ name: 'x', project_permissions: [{ project_id: 'product', permissions: [{ environment_type: 'DEVELOPMENT', permission: 'GOD' }] }] }) });
    expect(badLevel.code).toBe(6);
    const system = await coffer(['roles', 'edit', 'viewer', '--file', '-'], { token, input: '{"name":"viewer"}' });
    expect(system.code).toBe(6);
    expect(system.stderr).toContain('Role "VIEWER" is a system role and cannot be edited');
  });

  it('roles show of a system role lists what it grants, from the server definitions', async () => {
    const { token } = await organization();
    const shown = await ok(['roles', 'show', 'member'], { token });
    expect(shown.stdout).toContain('Role "MEMBER" (system)');
    expect(shown.stdout).toMatch(/^DEVELOPMENT environments: .*secret:decrypt/m);
    expect(shown.stdout).not.toMatch(/^PRODUCTION environments: .*secret:decrypt/m);
  });

  it('trailing commas go only outside strings', () => {
    expect(JSON.parse(withoutTrailingCommas('{"a": [1, 2,], "b": ",}",}'))).toEqual({ a: [1, 2], b: ',}' });
  });
});

describe('coffer roles explain', () => {
  it("prints every level's actions from the evaluator's own tables (DEPLOYER includes secret:decrypt; the DEPLOYMENT set does not)", async () => {
    const json = JSON.parse((await ok(['roles', 'explain', '--json'])).stdout) as Record<string, Record<string, string[]>>;
    expect(json.project_levels).toEqual(PROJECT_LEVEL_ACTIONS);
    expect(json.cluster_levels).toEqual(CLUSTER_LEVEL_ACTIONS);
    expect(json.environment_permission_sets).toEqual(ENVIRONMENT_SET_ACTIONS);
    expect(json.project_levels!.DEPLOYER).toContain('secret:decrypt');
    expect(json.project_levels!.VIEWER).not.toContain('secret:decrypt');
    expect(json.environment_permission_sets!.DEPLOYMENT).not.toContain('secret:decrypt');

    const text = (await ok(['roles', 'explain'])).stdout;
    for (const level of ['NO_ACCESS', 'VIEWER', 'DEPLOYER = VIEWER +', 'MANAGER = DEPLOYER +', 'ADMIN = MANAGER +', 'ENV_CREATOR = VIEWER +', 'FULL_VISIBILITY']) {
      expect(text).toMatch(new RegExp(`^${level.replace(/\+/g, '\\+')}$`, 'm'));
    }
    expect(text).toMatch(/^ {2}secret:decrypt\s+Read secret values in clear/m);
    const one = (await ok(['roles', 'explain', 'deployer'])).stdout;
    expect(one).toMatch(/^DEPLOYER$/m);
    expect(one).toMatch(/^ {2}environment:read/m); // the whole list for one level
    expect(one).not.toContain('MANAGER');
    const unknown = await coffer(['roles', 'explain', 'GOD']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"GOD" is not a level or permission set');
  });

  it('a DEPLOYER member decrypts in that environment type only, as explained', async () => {
    const { owner, org, token } = await organization();
    const bob = await server.member(owner.token, org, 'VIEWER');
    await ok(['roles', 'create', '--file', '-'], { token, input: JSON.stringify({ name: 'deployers', project_permissions: [{ project_id: 'product', permissions: [{ environment_type: 'DEVELOPMENT', permission: 'DEPLOYER' }] }] }) });
    await ok(['members', 'set-role', bob.email, 'deployers'], { token });
    const dev = await ok(['why', 'secret:decrypt', 'product/dev', '--member', bob.email], { token });
    expect(dev.stdout).toContain(`ALLOWED: ${bob.email} may secret:decrypt on product/dev: granted by custom role 'deployers': DEPLOYER on DEVELOPMENT in project product`);
    const prod = await coffer(['why', 'secret:decrypt', 'product/production', '--member', bob.email], { token });
    expect(prod.code).toBe(4);
    expect(prod.stdout).toContain('DENIED');
  });
});
