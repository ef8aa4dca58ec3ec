import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { open, seal } from '../../kernel/crypto/aead.js';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import { hashToken } from '../../kernel/crypto/random-token.js';
import { translateConstraint } from '../../kernel/db/errors.js';
import type { Database, SsoProvider } from '../../kernel/db/schema.js';
import { AppError, conflict, invalid, notFound } from '../../kernel/errors.js';
import type { AuditContext } from '../../kernel/http/audit-context.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { changedFields, withAudit } from '../audit/recorder.js';
import type { AccountsService, ClientInfo } from '../accounts/service.js';
import { isLoopbackHttp, type Oidc, type OidcClient } from './oidc.js';
import { SSO_CONSTRAINTS, createSsoRepo } from './repo.js';
import type { CreateProviderInput, UpdateProviderInput } from './schemas.js';
import { signInWith } from './admit.js';
import { rememberIdentity } from './identities.js';
import type { SamlService } from './saml-service.js';

/** How long a started sign-in may take at the identity provider. */
const LOGIN_TTL_MS = 10 * 60_000;

/** The secret opens only for the provider it was sealed for (a copied ciphertext fails). */
export const secretAad = (providerId: string) => `sso-provider-secret:${providerId}`;

export function createSsoService(deps: { db: Kysely<Database>; keyring: Keyring; oidc: Oidc; saml: SamlService; openSession: AccountsService['openSession'] }) {
  const { db, keyring, oidc } = deps;
  const repo = createSsoRepo(db);

  const fields = (p: SsoProvider) => ({ type: p.type, name: p.name, issuer: p.issuer, client_id: p.client_id, scopes: p.scopes });
  const scopesOf = (scopes: string[] | undefined) => ['openid', ...new Set((scopes ?? ['email', 'profile']).filter((s) => s !== 'openid'))].join(' ');
  const nameTaken = (name: string) => conflict(`An SSO provider named "${name}" already exists in this organization`, { field: 'name' });

  async function unsealed(provider: SsoProvider): Promise<OidcClient> {
    const keys = await keyring.byIds(db, [provider.data_key_id!]);
    const secret = open(keys.get(provider.data_key_id!)!, provider.client_secret_sealed!, secretAad(provider.id)).toString('utf8');
    return { id: provider.id, issuer: provider.issuer, clientId: provider.client_id, clientSecret: secret };
  }

  return {
    async create(access: RequestAccess, input: CreateProviderInput) {
      if (input.type === 'saml') return deps.saml.create(access, input);
      if (input.idp_metadata_xml !== undefined) throw invalid('body.idp_metadata_xml', 'is a field of SAML providers, not of an OpenID Connect one');
      const required = (field: 'issuer' | 'client_id' | 'client_secret') => input[field] ?? throwInvalid(`body.${field}`, 'is required for an OpenID Connect provider');
      const issuer = parseIssuer(required('issuer'));
      const clientId = required('client_id');
      const clientSecret = required('client_secret');
      const organizationId = access.scope.organization.id;
      const scopes = scopesOf(input.scopes);
      const id = randomUUID();
      try {
        return await withAudit(db, access.audit, async (tx, note) => {
          const dataKey = await keyring.forOwner(tx, organizationId, null);
          const provider = await createSsoRepo(tx).insertProvider({
            id,
            organization_id: organizationId,
            type: 'oidc',
            name: input.name.trim(),
            issuer,
            client_id: clientId,
            client_secret_sealed: seal(dataKey.key, clientSecret, secretAad(id)),
            data_key_id: dataKey.id,
            scopes,
          });
          // The event lists what was configured, never the secret: only that one was set.
          note({ event_type: 'CREATE', target_type: 'sso_provider', target_id: id, target_name: provider.name, change: `Added SSO provider ${provider.name}`, details: { after: { ...fields(provider), client_secret: '(set)' } } });
          return provider;
        });
      } catch (error) {
        throw translateConstraint(error, { [SSO_CONSTRAINTS.name]: () => nameTaken(input.name) });
      }
    },

    /** Edits a provider; a new client secret is sealed like the first and shows in the audit only as changed. */
    async update(access: RequestAccess, id: string, input: UpdateProviderInput) {
      const organizationId = access.scope.organization.id;
      // The type never changes: a SAML provider is edited by the SAML service.
      if ((await repo.provider(organizationId, id))?.type === 'saml') return deps.saml.update(access, id, input);
      if (input.idp_metadata_xml !== undefined) throw invalid('body.idp_metadata_xml', 'is a field of SAML providers, not of an OpenID Connect one');
      try {
        const updated = await withAudit(db, access.audit, async (tx, note) => {
          const r = createSsoRepo(tx);
          const before = await r.providerForUpdate(organizationId, id);
          if (!before) throw notFound('SSO provider');
          const changes: Partial<SsoProvider> = {};
          if (input.name !== undefined) changes.name = input.name.trim();
          if (input.issuer !== undefined) changes.issuer = parseIssuer(input.issuer);
          if (input.client_id !== undefined) changes.client_id = input.client_id;
          if (input.scopes !== undefined) changes.scopes = scopesOf(input.scopes);
          if (input.client_secret !== undefined) {
            const dataKey = await keyring.forOwner(tx, organizationId, null);
            changes.client_secret_sealed = seal(dataKey.key, input.client_secret, secretAad(id));
            changes.data_key_id = dataKey.id;
          }
          const after = await r.updateProvider(organizationId, id, changes);
          const diff = changedFields(fields(before), fields(after));
          if (input.client_secret !== undefined) {
            diff.before.client_secret = '(set)';
            diff.after.client_secret = '(changed)';
          }
          note({ event_type: 'UPDATE', target_type: 'sso_provider', target_id: id, target_name: after.name, change: `Updated SSO provider ${after.name}`, details: diff });
          return after;
        });
        // Discovery and the client were cached under the old settings.
        oidc.forget(id);
        return updated;
      } catch (error) {
        throw translateConstraint(error, { [SSO_CONSTRAINTS.name]: () => nameTaken(input.name ?? '') });
      }
    },

    list: (access: RequestAccess) => repo.providersOf(access.scope.organization.id),

    async get(access: RequestAccess, id: string) {
      const provider = await repo.provider(access.scope.organization.id, id);
      if (!provider) throw notFound('SSO provider');
      return provider;
    },

    async delete(access: RequestAccess, id: string) {
      await withAudit(db, access.audit, async (tx, note) => {
        const r = createSsoRepo(tx);
        const provider = await r.deleteProvider(access.scope.organization.id, id);
        if (!provider) throw notFound('SSO provider');
        const org = await r.enforcedOrganization(provider.organization_id);
        if (org?.enforce_sso && (await r.providersOf(provider.organization_id)).length === 0) {
          throw conflict(`Organization ${org.slug} enforces single sign-on; turn enforce_sso off (PATCH /orgs/{org}/settings) before removing its last provider`);
        }
        note({ event_type: 'DELETE', target_type: 'sso_provider', target_id: id, target_name: provider.name, change: `Removed SSO provider ${provider.name}`, details: { before: fields(provider) } });
      });
      oidc.forget(id);
    },

    async publicProviders(orgSlug: string) {
      const org = await repo.organizationBySlug(orgSlug);
      const providers = org ? await repo.providersOf(org.id) : [];
      if (providers.length === 0) throw notFound(`Single sign-on for organization ${orgSlug}`);
      return providers.map((p) => ({ id: p.id, name: p.name, type: p.type }));
    },

    /** Records a pending sign-in and returns where to send the browser, and the state to bind to it. */
    async start(orgSlug: string, providerId: string | undefined, redirectUri: string) {
      const org = await repo.organizationBySlug(orgSlug);
      const providers = org ? await repo.providersOf(org.id) : [];
      // An unknown organization and one without SSO answer alike: the route is public.
      if (providers.length === 0) throw notFound(`Single sign-on for organization ${orgSlug}`);
      const provider = providerId === undefined ? (providers.length === 1 ? providers[0] : undefined) : providers.find((p) => p.id === providerId);
      if (!provider) {
        if (providerId !== undefined) throw notFound('SSO provider');
        throw invalid('query.provider', `organization ${orgSlug} has ${providers.length} SSO providers; name one by id`);
      }
      if (provider.type === 'saml') return { ...(await deps.saml.start(provider, redirectUri)), protocol: 'saml' as const };
      const started = await oidc.start(await unsealed(provider), redirectUri, provider.scopes);
      await repo.insertLogin({
        state_hash: hashToken(started.state),
        provider_id: provider.id,
        nonce: started.nonce,
        code_verifier: started.codeVerifier,
        redirect_uri: redirectUri,
        expires_at: new Date(Date.now() + LOGIN_TTL_MS),
      });
      return { url: started.url, state: started.state, protocol: 'oidc' as const };
    },

    /**
     * Finishes a sign-in: the state names a pending sign-in, used once; the IdP's answer is
     * verified; the verified email must be a member's, or be provisioned (admit.ts). Then a session like a password login's.
     */
    async callback(query: Record<string, unknown>, boundState: string | undefined, client: ClientInfo, context: Omit<AuditContext, 'organizationId' | 'actor'>) {
      const state = typeof query.state === 'string' ? query.state : undefined;
      if (!state) throw invalid('query.state', 'is required');
      // The state must be the one this browser was given at start (its cookie): a sign-in
      // started by someone else cannot be completed in this browser (login CSRF).
      if (boundState !== state) throw new AppError('UNAUTHENTICATED', 'The sign-in state does not match the one this browser started; start the sign-in again');
      const login = await repo.consumeLogin(hashToken(state));
      if (!login) throw new AppError('UNAUTHENTICATED', 'This sign-in is unknown, expired or already used; start the sign-in again');
      const provider = await repo.providerById(login.provider_id);
      if (provider?.type !== 'oidc') throw new AppError('UNAUTHENTICATED', 'The SSO provider of this sign-in was removed');
      if (typeof query.error === 'string') {
        throw new AppError('UNAUTHENTICATED', `The identity provider refused the sign-in: ${query.error}${typeof query.error_description === 'string' ? `: ${query.error_description}` : ''}`);
      }

      const callbackUrl = new URL(login.redirect_uri);
      for (const [name, value] of Object.entries(query)) if (typeof value === 'string') callbackUrl.searchParams.set(name, value);
      const mapping = await repo.roleClaim(provider.organization_id);
      const { claims, refreshToken } = await oidc.finish(await unsealed(provider), callbackUrl, { state, nonce: login.nonce, codeVerifier: login.code_verifier }, mapping ? [mapping.claim] : []);

      const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : undefined;
      if (!email) throw new AppError('FORBIDDEN', `The identity provider ${provider.name} sent no email for this person; Coffer signs people in by email`);
      if (claims.email_verified !== true) throw new AppError('FORBIDDEN', `The identity provider ${provider.name} has not verified ${email}; only verified emails sign in`);

      return signInWith(db, deps.openSession, provider, email, claims, client, context, {
        admitted: (tx, userId) => rememberIdentity(tx, keyring, { provider, userId, subject: String(claims.sub), refreshToken }),
      });
    },
  };
}

export type SsoService = ReturnType<typeof createSsoService>;

function parseIssuer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('body.issuer', 'is not a URL');
  }
  if (url.protocol !== 'https:' && !isLoopbackHttp(url)) throw invalid('body.issuer', 'must be an https URL (http only on a loopback host)');
  if (url.search || url.hash || url.username || url.password) throw invalid('body.issuer', 'must not carry a query, fragment or credentials');
  // Kept as written: discovery compares the issuer exactly, trailing slash included.
  return value;
}

function throwInvalid(field: string, reason: string): never {
  throw invalid(field, reason);
}
