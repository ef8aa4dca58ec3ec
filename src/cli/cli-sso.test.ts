import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coffer, ok, server } from '../../test/cli.js';
import { startIdp } from '../../test/fixtures/oidc-idp.js';
import { ssoSteps } from '../../test/fixtures/sso.js';

let idp: Awaited<ReturnType<typeof startIdp>>;
beforeAll(async () => {
  idp = await startIdp();
});
afterAll(() => idp?.close());

describe('coffer sso sync', () => {
  it("applies a group change made at the IdP (real oidc-provider) and prints each member's outcome", async () => {
    const { orgWithProvider, signIn } = ssoSteps(server, () => idp);
    const { owner, org } = await orgWithProvider({ scopes: ['email', 'profile', 'groups'] });
    await server.expect(200, 'PUT', `/orgs/${org}/sso/role-mappings`, { token: owner.token, payload: { claim: 'groups', mappings: [{ value: 'platform', role: 'DEVOPS' }, { value: 'dev', role: 'DEVELOPER' }] } });
    const member = await server.member(owner.token, org, 'VIEWER');
    idp.addAccount('cli-sync', member.email, true, ['dev']);
    expect((await signIn(org, 'cli-sync')).session).toBeTruthy();
    idp.setGroups('cli-sync', ['platform']);

    const human = await ok(['sso', 'sync', '--org', org], { token: owner.token });
    expect(human.stdout).toMatch(new RegExp(`${member.email.replace(/[.+]/g, '\\$&')}\\s+role_changed\\s+DEVELOPER\\s+DEVOPS`));
    expect(human.stderr).toContain('1 member changed');
    const json = JSON.parse((await ok(['sso', 'sync', '--org', org, '--json'], { token: owner.token })).stdout);
    expect(json).toMatchObject({ changed: 0, items: [expect.objectContaining({ user: expect.objectContaining({ email: member.email }), outcome: 'unchanged' })] });

    const developer = await server.member(owner.token, org, 'DEVELOPER');
    const refused = await coffer(['sso', 'sync', '--org', org], { token: developer.token });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('organization:setup');
  });
});
