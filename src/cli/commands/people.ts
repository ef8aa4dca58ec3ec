import type { Command } from 'commander';
import { createApiClient, CliError, EXIT } from '../api-client.js';
import { apiFromEnvironment } from '../context.js';
import { DEFAULT_URL, readCredentials, writeCredentials } from '../credentials.js';
import { findMember, findRole, pages, pick, type Row } from '../lookup.js';
import { printJson, table } from '../output.js';
import { ASSIGNABLE_ROLES } from '../../modules/authz/system-roles.js';
import { listing } from './resources.js';
import { prompt } from './session.js';
import { ORG_OPTION, inOrganization, orgCommand } from '../org-command.js';

/** An invitation token from what `coffer invite` printed: the token itself, or the link carrying it. */
export function invitationTokenOf(argument: string): string {
  const text = argument.trim();
  let token = text;
  if (/^https?:\/\//i.test(text)) {
    const link = new URL(text);
    token = link.searchParams.get('token') ?? link.pathname.split('/').filter(Boolean).pop() ?? '';
  }
  if (!/^cfi_[0-9A-Za-z_-]+$/.test(token)) {
    throw new CliError('That is not an invitation: give the cfi_… token or the link that coffer invite printed', EXIT.usage);
  }
  return token;
}

export function peopleCommands(program: Command) {
  program
    .command('signup')
    .description('Create an account on the server, then stay signed in (as coffer login does)')
    .option('--email <email>', 'your email (asked if missing)')
    .option('--name <name>', 'your name as others see it (default: the part of the email before @)')
    .option('--url <url>', 'the Coffer server (default: COFFER_URL or http://127.0.0.1:8080)')
    .addHelpText(
      'after',
      [
        '',
        'The password (at least 12 characters) is read from the terminal, twice, or from the first line of stdin when it is not one.',
        '',
        'Examples:',
        '  coffer signup --email ada@example.com --name "Ada Lovelace"',
        '  echo "$PASSWORD" | coffer signup --email ci@example.com',
      ].join('\n'),
    )
    .action(async (options: { email?: string; name?: string; url?: string }) => {
      const url = (options.url ?? process.env.COFFER_URL ?? readCredentials()?.url ?? DEFAULT_URL).replace(/\/+$/, '');
      const email = options.email ?? (await prompt('Email: '));
      if (!email) throw new CliError('An email is needed: --email ada@example.com', EXIT.usage);
      const password = await prompt('Password: ', true);
      if (!password) throw new CliError('A password is needed', EXIT.usage);
      if (process.stdin.isTTY && (await prompt('Repeat the password: ', true)) !== password) {
        throw new CliError('The two passwords differ; nothing was created', EXIT.usage);
      }
      const name = options.name ?? email.split('@')[0] ?? email;
      const api = createApiClient({ url });
      await api.request('POST', '/auth/signup', { email, password, name });
      const { token } = (await api.request('POST', '/auth/login', { email, password })).json() as { token: string };
      const file = writeCredentials({ url, token, email });
      process.stderr.write(`Created the account ${email} on ${url} and signed in; the session is kept in ${file}\n`);
      process.stderr.write(`Next: coffer orgs create <slug>, or coffer accept <invitation> if you were invited\n`);
    });

  program
    .command('invite')
    .argument('<email>', 'who to invite')
    .requiredOption('--role <role>', `a system role: ${ASSIGNABLE_ROLES.join(', ')}`)
    .option(...ORG_OPTION)
    .option('--json', 'print JSON (with the token)')
    .description('Invite someone to the organization; prints the invitation link (valid once, for that email)')
    .addHelpText(
      'after',
      [
        '',
        'The invited person signs up (coffer signup) with that email, then runs coffer accept with the link.',
        'To give a custom role, invite with VIEWER and then: coffer members set-role EMAIL "Role name".',
        '',
        'Examples:',
        '  coffer invite bob@example.com --role VIEWER',
        '  coffer invite ci-admin@example.com --role DEVOPS --org acme',
      ].join('\n'),
    )
    .action(inOrganization(async ({ api, org }, email: string, options: { role: string; json?: boolean }) => {
      const role = options.role.toUpperCase();
      if (role === 'OWNER') throw new CliError('An invitation cannot make an OWNER: ownership moves only by transfer, once they are a member', EXIT.usage);
      if (!(ASSIGNABLE_ROLES as readonly string[]).includes(role)) {
        const custom = await findRole(api, org, options.role).catch(() => undefined);
        throw new CliError(
          custom && !custom.system
            ? `Invitations carry a system role and "${custom.name}" is a custom role: invite with --role VIEWER, then once they accepted: coffer members set-role ${email} "${custom.name}"`
            : `--role "${options.role}" is not a role an invitation can carry: use ${ASSIGNABLE_ROLES.join(', ')}`,
          EXIT.usage,
        );
      }
      const created = (await api.request('POST', `/orgs/${encodeURIComponent(org)}/invitations`, { email, role })).json() as {
        token: string;
        role: string;
        expires_at: string;
      };
      if (options.json) return printJson(created);
      process.stderr.write(`Invited ${email} to ${org} as ${created.role} (until ${created.expires_at}). Send them this link; they run coffer accept with it:\n`);
      process.stdout.write(`${api.url}/invitations/${created.token}\n`);
    }));

  const invitations = program
    .command('invitations')
    .description('Pending invitations of an organization')
    .addHelpText('after', '\nExamples:\n  coffer invitations ls\n  coffer invitations revoke bob@example.com');
  listing(invitations, 'List pending invitations (never their tokens)', ['email', 'role', 'expires_at', 'id'], (org) => `/orgs/${org}/invitations`, 'coffer invitations ls', false);
  orgCommand(invitations, 'revoke', 'Withdraw a pending invitation: its link stops working', ['coffer invitations revoke bob@example.com'])
    .argument('<email-or-id>', 'the invited email, or the invitation id')
    .action(inOrganization(async ({ api, org }, ref: string) => {
      const base = `/orgs/${encodeURIComponent(org)}/invitations`;
      const pending = ((await api.request('GET', base)).json() as { items: Row[] }).items;
      const invitation = pick(pending, ref, ['email'], 'Pending invitation for', org);
      await api.request('DELETE', `${base}/${invitation.id}`);
      process.stderr.write(`Withdrew the invitation of ${String(invitation.email)} to ${org}\n`);
    }));

  program
    .command('accept')
    .argument('<token-or-link>', 'the link (or cfi_… token) that coffer invite printed')
    .description('Accept an invitation addressed to your email (sign up or log in first)')
    .addHelpText('after', '\nExamples:\n  coffer accept http://127.0.0.1:8080/invitations/cfi_…\n  coffer accept cfi_…')
    .action(async (argument: string) => {
      const token = invitationTokenOf(argument);
      let api;
      try {
        api = apiFromEnvironment();
      } catch (error) {
        // Someone with an invitation is often new here: say how to get an account.
        if (error instanceof CliError && error.exitCode === EXIT.unauthenticated) {
          throw new CliError(`${error.message}. New here? Create your account first: coffer signup --email <the invited email>`, error.exitCode);
        }
        throw error;
      }
      const accepted = (await api.request('POST', `/invitations/${encodeURIComponent(token)}/accept`)).json() as { organization: { slug: string }; role: string };
      process.stderr.write(`Joined organization ${accepted.organization.slug} as ${accepted.role}\n`);
    });

  const members = program
    .command('members')
    .description('Members of an organization')
    .addHelpText('after', '\nExamples:\n  coffer members ls\n  coffer members set-role bob@example.com DEVELOPER\n  coffer members set-role bob@example.com "QA testers"');
  members
    .command('ls')
    .description('List members and their roles (a custom role by its name)')
    .option(...ORG_OPTION)
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  coffer members ls\n  coffer members ls --org acme --json')
    .action(inOrganization(async ({ api, org }, options: { json?: boolean }) => {
      const items = await pages(api, `/orgs/${encodeURIComponent(org)}/members`);
      if (options.json) return printJson(items);
      const rows = items.map((m) => ({ ...m, role: m.role === 'CUSTOM' ? m.role_name : m.role, custom: m.role === 'CUSTOM' ? 'yes' : '' }));
      process.stdout.write(table(rows, ['email', 'name', 'role', 'custom', 'user_id']));
    }));
  orgCommand(members, 'set-role', "Change a member's role; effective on their next request", ['coffer members set-role bob@example.com DEVELOPER', 'coffer members set-role bob@example.com "QA testers" --org acme'])
    .argument('<member>', "the member's email or user id")
    .argument('<role>', 'a system role (VIEWER, DEVELOPER…) or a custom role, by name')
    .action(inOrganization(async ({ api, org }, memberRef: string, roleRef: string) => {
      const [member, role] = await Promise.all([findMember(api, org, memberRef), findRole(api, org, roleRef)]);
      await api.request('PATCH', `/orgs/${encodeURIComponent(org)}/members/${encodeURIComponent(member.id)}`, role.system ? { role: role.name } : { role_id: role.id });
      process.stderr.write(`${String(member.email)} now has the ${role.system ? 'system' : 'custom'} role ${role.name} in ${org}\n`);
    }));
}
