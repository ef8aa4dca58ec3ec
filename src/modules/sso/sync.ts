import { Type } from 'typebox';
import type { Kysely } from 'kysely';
import { open } from '../../kernel/crypto/aead.js';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { Database, SsoProvider } from '../../kernel/db/schema.js';
import { AppError, conflict } from '../../kernel/errors.js';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf } from '../../kernel/http/context.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { OrgParams, Uuid, errorResponses } from '../../kernel/http/schemas.js';
import { withAudit } from '../audit/recorder.js';
import { identitiesOf, openRefreshToken, replaceRefreshToken } from './identities.js';
import type { Oidc, OidcClient } from './oidc.js';
import { createSsoRepo } from './repo.js';
import { claimValues, roleFor, roleLabel } from './role-rules.js';
import { secretAad } from './service.js';

const Role = Type.Object({ role: Type.String(), role_id: Type.Union([Uuid, Type.Null()]) });

export const SyncResultView = Type.Object({
  items: Type.Array(
    Type.Object({
      user: Type.Object({ id: Uuid, email: Type.String() }),
      outcome: Type.Union([Type.Literal('unchanged'), Type.Literal('role_changed'), Type.Literal('removed'), Type.Literal('skipped'), Type.Literal('failed')]),
      before: Type.Union([Role, Type.Null()]),
      after: Type.Union([Role, Type.Null()], { description: 'null once removed' }),
      reason: Type.Optional(Type.String()),
    }),
  ),
  changed: Type.Integer({ description: 'How many members had their role changed or were removed' }),
});

type SyncItem = {
  user: { id: string; email: string };
  outcome: 'unchanged' | 'role_changed' | 'removed' | 'skipped' | 'failed';
  before: { role: string; role_id: string | null } | null;
  after: { role: string; role_id: string | null } | null;
  reason?: string;
};

/**
 * "Sync now": every member who signed in with an OpenID Connect provider is re-evaluated at
 * once, from the claims the IdP gives today (the refresh-token grant of their latest sign-in,
 * then UserInfo): the role follows the mapped groups (highest wins), a member in no mapped
 * group (no default role) or whom the IdP refuses (invalid_grant: removed or disabled there)
 * loses the membership. The OWNER is never changed. An IdP that cannot be reached changes
 * nothing (`failed`); a member without a stored refresh token is `skipped` (re-evaluated at
 * the next sign-in). Each change commits with its audit event.
 */
export function createSsoSync(deps: { db: Kysely<Database>; keyring: Keyring; oidc: Oidc }) {
  const { db, keyring, oidc } = deps;
  /** Organizations being synced by this process: a second sync at once is refused, not interleaved. */
  const running = new Set<string>();

  async function clientOf(provider: SsoProvider): Promise<OidcClient> {
    // Identities (and their refresh tokens) are only stored by OIDC sign-ins, whose providers hold a sealed secret.
    if (provider.type !== 'oidc' || !provider.data_key_id || !provider.client_secret_sealed) throw new Error(`SSO provider ${provider.id} is not an OpenID Connect provider`);
    const keys = await keyring.byIds(db, [provider.data_key_id]);
    const secret = open(keys.get(provider.data_key_id)!, provider.client_secret_sealed, secretAad(provider.id)).toString('utf8');
    return { id: provider.id, issuer: provider.issuer, clientId: provider.client_id, clientSecret: secret };
  }

  async function syncOne(access: RequestAccess, row: Awaited<ReturnType<typeof identitiesOf>>[number], provider: SsoProvider | undefined, client: () => Promise<OidcClient>): Promise<SyncItem> {
    const organizationId = access.scope.organization.id;
    const user = { id: row.user_id, email: row.email };
    const base = { user, before: null, after: null };
    if (!provider) return { ...base, outcome: 'skipped', reason: 'The SSO provider of their last sign-in was removed' };
    const refreshToken = await openRefreshToken(db, keyring, organizationId, row);
    if (!refreshToken) {
      return { ...base, outcome: 'skipped', reason: `${provider.name} gave no refresh token at their last sign-in (add the offline_access scope if it needs it): re-evaluated at their next sign-in` };
    }
    let answer: Awaited<ReturnType<Oidc['refresh']>>;
    try {
      answer = await oidc.refresh(await client(), refreshToken, row.subject);
    } catch (error) {
      return { ...base, outcome: 'failed', reason: error instanceof Error ? error.message : 'unknown error' };
    }

    return withAudit(db, access.audit, async (tx, note): Promise<SyncItem> => {
      const repo = createSsoRepo(tx);
      const membership = await repo.membership(organizationId, user.id);
      if (!membership) return { ...base, outcome: 'skipped', reason: 'No longer a member' };
      const before = { role: membership.role, role_id: membership.role_id };
      const unchanged = (reason?: string): SyncItem => ({ user, outcome: 'unchanged', before, after: before, ...(reason ? { reason } : {}) });
      if ('claims' in answer && answer.refreshToken !== refreshToken) await replaceRefreshToken(tx, keyring, organizationId, user.id, answer.refreshToken);
      const remove = async (why: string): Promise<SyncItem> => {
        await repo.removeMember(organizationId, user.id);
        await tx.deleteFrom('sso_identities').where('organization_id', '=', organizationId).where('user_id', '=', user.id).execute();
        note({
          event_type: 'DELETE',
          target_type: 'member',
          target_id: user.id,
          target_name: user.email,
          change: `Removed ${user.email}: ${why} (SSO sync with provider ${provider.name})`,
          details: { before },
        });
        return { user, outcome: 'removed', before, after: null, reason: why };
      };

      if ('refused' in answer) {
        const why = `${provider.name} refused to refresh their sign-in (${answer.refused})`;
        return membership.role === 'OWNER' ? unchanged(`${why}; the OWNER is never removed by SSO`) : remove(why);
      }
      if (membership.role === 'OWNER') return unchanged('The OWNER is never changed by SSO');
      const mapping = await repo.roleClaim(organizationId);
      if (!mapping) return unchanged();
      const target = roleFor(await repo.roleRules(organizationId), claimValues(answer.claims[mapping.claim]));
      if (!target) return remove(`in no group that maps to a role (claim "${mapping.claim}") and no default role`);
      if (target.role === membership.role && target.role_id === membership.role_id) return unchanged();
      await repo.setRole(organizationId, user.id, target.role, target.role_id);
      const after = { role: target.role, role_id: target.role_id };
      note({
        event_type: 'UPDATE',
        target_type: 'member',
        target_id: user.id,
        target_name: user.email,
        change: `Changed the role of ${user.email} to ${roleLabel(target)} from the "${mapping.claim}" claim of SSO provider ${provider.name} (SSO sync)`,
        details: { before, after },
      });
      return { user, outcome: 'role_changed', before, after };
    });
  }

  return {
    async sync(access: RequestAccess) {
      const organizationId = access.scope.organization.id;
      if (running.has(organizationId)) throw conflict('An SSO sync of this organization is already running; wait for it to finish');
      running.add(organizationId);
      try {
        const repo = createSsoRepo(db);
        const providers = new Map((await repo.providersOf(organizationId)).map((p) => [p.id, p]));
        if (providers.size === 0) throw new AppError('UNPROCESSABLE', 'This organization has no SSO provider to sync with');
        const clients = new Map<string, Promise<OidcClient>>();
        const items: SyncItem[] = [];
        // One member at a time: an IdP is not hammered, and each change commits on its own.
        for (const row of await identitiesOf(db, organizationId)) {
          const provider = providers.get(row.provider_id);
          const client = () => {
            if (!clients.has(row.provider_id)) clients.set(row.provider_id, clientOf(provider!));
            return clients.get(row.provider_id)!;
          };
          items.push(await syncOne(access, row, provider, client));
        }
        return { items, changed: items.filter((item) => item.outcome === 'role_changed' || item.outcome === 'removed').length };
      } finally {
        running.delete(organizationId);
      }
    },
  };
}

export type SsoSync = ReturnType<typeof createSsoSync>;

export function ssoSyncRoutes(app: App, sync: SsoSync) {
  app.post('/orgs/:org/sso/sync', {
    config: { access: { action: 'organization:setup', resource: 'organization' } },
    schema: {
      tags: ['sso'],
      summary: "Re-evaluate every SSO member's groups now from the identity provider: roles change, members in no mapped group or refused by the IdP are removed (never the OWNER)",
      params: OrgParams,
      response: { 200: SyncResultView, ...errorResponses },
    },
    handler: async (request) => sync.sync(accessOf(request)),
  });
}
