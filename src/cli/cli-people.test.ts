import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PASSWORD, server, url, fresh, coffer, ok } from '../../test/cli.js';
import { invitationTokenOf } from './commands/people.js';

/** A person with their own config directory, signed up through `coffer signup`. */
async function signUp(label: string, name?: string) {
  const email = server.email(label);
  const configDir = fresh('cfg');
  const result = await coffer(['signup', '--email', email, ...(name ? ['--name', name] : [])], { configDir, input: `${PASSWORD}\n` });
  return { email, configDir, result };
}

describe('coffer signup', () => {
  it('creates the account from the password on stdin and leaves the person signed in', async () => {
    const { email, configDir, result } = await signUp('ada', 'Ada Lovelace');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`Created the account ${email} on ${url} and signed in`);
    expect(result.stderr).not.toContain(PASSWORD);
    const file = path.join(configDir, 'credentials.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).not.toContain(PASSWORD);
    const slug = server.slug('org');
    await ok(['orgs', 'create', slug], { configDir });
    expect(JSON.parse((await ok(['orgs', 'ls', '--json'], { configDir })).stdout)).toEqual([expect.objectContaining({ slug, role: 'OWNER' })]);
    const me = await server.expect(200, 'GET', '/me', { token: JSON.parse(fs.readFileSync(file, 'utf8')).token });
    expect(me.body.user).toMatchObject({ email, name: 'Ada Lovelace' });
  });

  it('refuses a taken email, a short password and a missing one, storing nothing', async () => {
    const { email } = await signUp('taken');
    const again = await coffer(['signup', '--email', email], { configDir: fresh('cfg'), input: `${PASSWORD}\n` });
    expect(again.code).toBe(6);
    const shortDir = fresh('cfg');
    const short = await coffer(['signup', '--email', server.email('short')], { configDir: shortDir, input: 'short\n' });
    expect(short.code).toBe(6);
    expect(short.stderr).toContain('password');
    expect(short.stderr).not.toContain('short\n');
    expect(fs.existsSync(path.join(shortDir, 'credentials.json'))).toBe(false);
    const none = await coffer(['signup', '--email', server.email('none')], { configDir: fresh('cfg') });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('A password is needed');
  });
});

describe('coffer invite, invitations and accept', () => {
  it('invites by email, the invitee signs up and accepts the printed link, and joins with that role', async () => {
    const { owner, org } = await server.org();
    const bob = server.email('bob');
    const invited = await ok(['invite', bob, '--role', 'viewer'], { token: owner.token });
    const link = invited.stdout.trim();
    expect(link).toMatch(new RegExp(`^${url}/invitations/cfi_[0-9A-Za-z_-]+$`));
    expect(invited.stderr).toContain(`Invited ${bob} to ${org} as VIEWER`);

    const listed = await ok(['invitations', 'ls'], { token: owner.token });
    expect(listed.stdout).toMatch(/^EMAIL\s+ROLE\s+EXPIRES_AT\s+ID$/m);
    expect(listed.stdout).toContain(bob);
    expect(listed.stdout).not.toContain(link.split('/').pop()!);

    const configDir = fresh('cfg');
    const notYet = await coffer(['accept', link], { configDir });
    expect(notYet.code).toBe(3);
    expect(notYet.stderr).toContain('New here? Create your account first: coffer signup --email');
    await ok(['signup', '--email', bob], { configDir, input: `${PASSWORD}\n` });
    const accepted = await ok(['accept', link], { configDir });
    expect(accepted.stderr).toContain(`Joined organization ${org} as VIEWER`);
    expect((await ok(['members', 'ls'], { token: owner.token })).stdout).toMatch(new RegExp(`^${bob.replace(/[.+]/g, '\\$&')}\\s+\\S+\\s+VIEWER\\s`, 'm'));
    expect((await ok(['invitations', 'ls'], { token: owner.token })).stdout).toBe('(none)\n');

    // The link works once.
    const twice = await coffer(['accept', link], { configDir });
    expect(twice.code).not.toBe(0);
  });

  it('accept takes the bare token too, and refuses what is not an invitation without a request', async () => {
    const { owner, org } = await server.org();
    const carol = await server.user('carol');
    const link = (await ok(['invite', carol.email, '--role', 'DEVELOPER', '--org', org], { token: owner.token })).stdout.trim();
    const token = link.split('/').pop()!;
    expect((await ok(['accept', token], { token: carol.token })).stderr).toContain(`Joined organization ${org} as DEVELOPER`);
    const junk = await coffer(['accept', 'https://example.com/nothing-here'], { token: carol.token });
    expect(junk.code).toBe(2);
    expect(junk.stderr).toContain('not an invitation');
    expect(invitationTokenOf(`${url}/accept?token=cfi_abc123`)).toBe('cfi_abc123');
  });

  it('invitations revoke withdraws by email, and the link stops working; an unknown email is named', async () => {
    const { owner, org } = await server.org();
    const dave = await server.user('dave');
    const link = (await ok(['invite', dave.email, '--role', 'MEMBER'], { token: owner.token })).stdout.trim();
    expect((await ok(['invitations', 'revoke', dave.email], { token: owner.token })).stderr).toContain(`Withdrew the invitation of ${dave.email} to ${org}`);
    expect((await coffer(['accept', link], { token: dave.token })).code).not.toBe(0);
    const unknown = await coffer(['invitations', 'revoke', 'nobody@example.test'], { token: owner.token });
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain(`Pending invitation for "nobody@example.test" not found in organization "${org}"`);
  });

  it('invite refuses an unknown role (listing the roles), OWNER, a custom role (saying how), and someone already a member', async () => {
    const { owner } = await server.org();
    const bad = await coffer(['invite', server.email('x'), '--role', 'EMPEROR'], { token: owner.token });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--role "EMPEROR" is not a role an invitation can carry: use ADMIN, DEVOPS, BILLING_MANAGER, VIEWER, AUDITOR, DEVELOPER, MEMBER, API_USER');
    const owned = await coffer(['invite', server.email('x'), '--role', 'OWNER'], { token: owner.token });
    expect(owned.code).toBe(2);
    expect(owned.stderr).toContain('ownership moves only by transfer');
    await ok(['roles', 'create', '--file', '-'], { token: owner.token, input: '{"name": "QA testers"}' });
    const custom = await coffer(['invite', 'eve@example.test', '--role', 'qa testers'], { token: owner.token });
    expect(custom.code).toBe(2);
    expect(custom.stderr).toContain('invite with --role VIEWER, then once they accepted: coffer members set-role eve@example.test "QA testers"');
    const member = await coffer(['invite', owner.email, '--role', 'VIEWER'], { token: owner.token });
    expect(member.code).toBe(6);
    expect(member.stderr).toContain('already a member');
  });
});

describe('coffer members set-role and ls', () => {
  it('sets a system role or a custom role by name; members ls shows the custom role by its name', async () => {
    const { owner, org } = await server.org();
    const bob = await server.member(owner.token, org, 'VIEWER');
    const role = fresh('role.json');
    fs.writeFileSync(role, JSON.stringify({ name: 'QA testers', description: 'test' }));
    await ok(['roles', 'create', '--file', role], { token: owner.token });

    expect((await ok(['members', 'set-role', bob.email, 'developer'], { token: owner.token })).stderr).toContain(`${bob.email} now has the system role DEVELOPER in ${org}`);
    expect((await ok(['members', 'set-role', bob.email, 'qa TESTERS'], { token: owner.token })).stderr).toContain(`now has the custom role QA testers`);
    const ls = await ok(['members', 'ls'], { token: owner.token });
    expect(ls.stdout).toMatch(/^EMAIL\s+NAME\s+ROLE\s+CUSTOM\s+USER_ID$/m);
    const row = ls.stdout.split('\n').find((line) => line.startsWith(bob.email))!;
    expect(row).toContain('QA testers');
    expect(row).not.toContain('CUSTOM');
    const json = JSON.parse((await ok(['members', 'ls', '--json'], { token: owner.token })).stdout) as { email: string; role: string; role_name: string }[];
    expect(json.find((m) => m.email === bob.email)).toMatchObject({ role: 'CUSTOM', role_name: 'QA testers' });

    // By user id too.
    await ok(['members', 'set-role', bob.id, 'AUDITOR'], { token: owner.token });
    expect((await server.expect(200, 'GET', `/orgs/${org}/members`, { token: owner.token })).body.items.find((m: { email: string }) => m.email === bob.email).role).toBe('AUDITOR');
  });

  it('names what is missing: the member, the role, and refuses OWNER', async () => {
    const { owner, org } = await server.org();
    const bob = await server.member(owner.token, org, 'VIEWER');
    const noMember = await coffer(['members', 'set-role', 'ghost@example.test', 'VIEWER'], { token: owner.token });
    expect(noMember.code).toBe(5);
    expect(noMember.stderr).toContain(`Member "ghost@example.test" not found in organization "${org}"`);
    const noRole = await coffer(['members', 'set-role', bob.email, 'qa'], { token: owner.token });
    expect(noRole.code).toBe(5);
    expect(noRole.stderr).toContain(`Role "qa" not found in organization "${org}"`);
    const owned = await coffer(['members', 'set-role', bob.email, 'OWNER'], { token: owner.token });
    expect(owned.code).toBe(6);
    expect(owned.stderr).toContain('transfer');
  });
});
