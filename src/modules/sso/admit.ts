import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, SsoProvider } from '../../kernel/db/schema.js';
import { AppError } from '../../kernel/errors.js';
import { hashPassword } from '../accounts/passwords.js';
import type { AuditContext } from '../../kernel/http/audit-context.js';
import type { AccountsService, ClientInfo } from '../accounts/service.js';
import { recordAudit, type AuditEventInput } from '../audit/recorder.js';
import { createSsoRepo } from './repo.js';
import { claimValues, roleFor, roleLabel, type RoleRule } from './role-rules.js';

/** What an SSO sign-in decided about the person's membership, and the events that say so. */
export interface Admission {
  user: { id: string; email: string; name: string };
  events: AuditEventInput[];
  /** Set when the sign-in removed the membership: committed, then the sign-in is refused with it. */
  refusal?: AppError;
}

/**
 * Who an SSO sign-in lets in, inside the sign-in's transaction: an existing member (their role
 * re-evaluated from the claims when the organization maps roles), or, for an unknown person of
 * a verified domain, a new account and membership (just-in-time provisioning). The OWNER's
 * membership is never changed here: it is the break-glass account.
 */
export async function admit(tx: Kysely<Database>, provider: SsoProvider, email: string, claims: Record<string, unknown>): Promise<Admission> {
  const repo = createSsoRepo(tx);
  const orgId = provider.organization_id;
  const mapping = await repo.roleClaim(orgId);
  const rules: RoleRule[] = mapping ? await repo.roleRules(orgId) : [];
  const target = mapping ? roleFor(rules, claimValues(claims[mapping.claim])) : undefined;
  const noGroup = () =>
    new AppError('FORBIDDEN', `${email} is in no group that this organization maps to a role (claim "${mapping!.claim}"), and it gives no default role; ask an admin`);

  // Two first sign-ins of one person at once: the second finds the row the first is adding.
  const raced = () => new AppError('CONFLICT', `Another sign-in of ${email} is setting up the account right now; start the sign-in again`);

  let user = await repo.userByEmail(email);
  const membership = user ? await repo.membership(orgId, user.id) : undefined;

  if (!membership) {
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (!(await repo.isVerifiedDomain(orgId, domain))) {
      throw new AppError('FORBIDDEN', `${email} is not a member of this organization, and ${domain} is not one of its verified domains; ask an admin to invite you`);
    }
    if (mapping && !target) throw noGroup();
    const role = target ?? { role: 'MEMBER', role_id: null, role_name: null };
    const events: AuditEventInput[] = [];
    if (!user) {
      // The account has a password nobody knows (hashed like any other, so a password login
      // for it costs the same as for anyone): it signs in by SSO until its owner sets one.
      const name = typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 100) : email;
      const created = await repo.insertUser({ email, name, password_hash: await hashPassword(randomBytes(32).toString('base64url')) });
      if (!created) throw raced();
      user = created;
      events.push({ event_type: 'CREATE', target_type: 'user', target_id: user.id, target_name: email, change: `Created account ${email} at first sign-in with SSO provider ${provider.name}` });
    }
    if (!(await repo.addMember({ organization_id: orgId, user_id: user.id, role: role.role, role_id: role.role_id }))) throw raced();
    events.push({
      event_type: 'CREATE',
      target_type: 'member',
      target_id: user.id,
      target_name: email,
      change: `Added ${email} as ${roleLabel(role)} at first sign-in with SSO provider ${provider.name} (verified domain ${domain})`,
      details: { after: { role: role.role, role_id: role.role_id } },
    });
    return { user, events };
  }

  if (!mapping || membership.role === 'OWNER') return { user: user!, events: [] };
  if (!target) {
    await repo.removeMember(orgId, user!.id);
    return {
      user: user!,
      events: [{ event_type: 'DELETE', target_type: 'member', target_id: user!.id, target_name: email, change: `Removed ${email}: in no mapped group at sign-in with SSO provider ${provider.name}`, details: { before: { role: membership.role, role_id: membership.role_id } } }],
      refusal: noGroup(),
    };
  }
  if (target.role === membership.role && target.role_id === membership.role_id) return { user: user!, events: [] };
  await repo.setRole(orgId, user!.id, target.role, target.role_id);
  return {
    user: user!,
    events: [
      {
        event_type: 'UPDATE',
        target_type: 'member',
        target_id: user!.id,
        target_name: email,
        change: `Changed the role of ${email} to ${roleLabel(target)} from the "${mapping.claim}" claim of SSO provider ${provider.name}`,
        details: { before: { role: membership.role, role_id: membership.role_id }, after: { role: target.role, role_id: target.role_id } },
      },
    ],
  };
}

/**
 * The end of every SSO sign-in, whatever the protocol: in one transaction `first` (the
 * protocol's own single-use bookkeeping), the admission and the audit events with the LOGIN
 * naming the provider; then a session like a password login's, marked as opened by the
 * organization's identity provider.
 */
export async function signInWith(
  db: Kysely<Database>,
  openSession: AccountsService['openSession'],
  provider: SsoProvider,
  email: string,
  claims: Record<string, unknown>,
  client: ClientInfo,
  context: Omit<AuditContext, 'organizationId' | 'actor'>,
  hooks: {
    /** Runs first in the sign-in's transaction (e.g. a replay check that must commit with it). */
    first?: (tx: Kysely<Database>) => Promise<void>;
    /** Runs when the person is admitted, in the same transaction (e.g. remembering the identity). */
    admitted?: (tx: Kysely<Database>, userId: string) => Promise<void>;
  } = {},
) {
  const { user, refusal } = await db.transaction().execute(async (tx) => {
    await hooks.first?.(tx);
    const admission = await admit(tx, provider, email, claims);
    const { user } = admission;
    if (!admission.refusal) await hooks.admitted?.(tx, user.id);
    await recordAudit(tx, { ...context, organizationId: provider.organization_id, actor: { type: 'user', id: user.id, name: user.email } }, [
      ...admission.events,
      ...(admission.refusal ? [] : [loginEvent(provider, claims)]),
    ]);
    return admission;
  });
  if (refusal) throw refusal;
  return openSession(user, client, provider.organization_id);
}

/** The LOGIN event names the provider, so the audit log says how each person came in. */
function loginEvent(provider: SsoProvider, claims: Record<string, unknown>): AuditEventInput {
  return {
    event_type: 'LOGIN',
    target_type: 'sso_provider',
    target_id: provider.id,
    target_name: provider.name,
    change: `Signed in with SSO provider ${provider.name}`,
    details: { provider: { id: provider.id, type: provider.type, name: provider.name, issuer: provider.issuer }, subject: String(claims.sub) },
  };
}
