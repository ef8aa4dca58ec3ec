import type { Kysely } from 'kysely';
import type { OrgScope } from '../../kernel/authz/scope.js';
import type { Database } from '../../kernel/db/schema.js';
import { AppError } from '../../kernel/errors.js';
import type { Principal } from '../../kernel/principal.js';

/**
 * Enforced single sign-on, checked once the request's organization is known: a member's
 * session must have been opened by this organization's identity provider. The OWNER is the
 * break-glass account (a password still works for it); API tokens are not sessions and are
 * unaffected; strangers get the usual 404 further on.
 */
export function createSsoEnforcement(db: Kysely<Database>) {
  // Not async: on every request of every organization, and almost none enforces single sign-on.
  return function enforce(principal: Principal, scope: OrgScope): Promise<void> | undefined {
    const { organization, membership } = scope;
    if (principal.kind !== 'user' || !organization.enforce_sso || !membership || membership.role === 'OWNER') return;
    if (principal.session.ssoOrganizationId === organization.id) return;
    return refuse(organization);
  };

  async function refuse(organization: OrgScope['organization']): Promise<void> {
    const providers = await db.selectFrom('sso_providers').select('name').where('organization_id', '=', organization.id).orderBy('created_at').execute();
    const names = providers.map((p) => p.name).join(', ') || 'its identity provider';
    throw new AppError(
      'FORBIDDEN',
      `Organization ${organization.slug} requires single sign-on: sign in with ${names} (GET /api/v1/auth/sso/${organization.slug}/start); a password session cannot act in it`,
      { sso_required: true, providers: providers.map((p) => p.name) },
    );
  }
}
