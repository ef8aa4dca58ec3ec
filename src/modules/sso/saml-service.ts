import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { hashToken } from '../../kernel/crypto/random-token.js';
import { translateConstraint } from '../../kernel/db/errors.js';
import type { Database, SsoProvider } from '../../kernel/db/schema.js';
import { AppError, conflict, invalid, notFound } from '../../kernel/errors.js';
import type { AuditContext } from '../../kernel/http/audit-context.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { changedFields, withAudit } from '../audit/recorder.js';
import type { AccountsService, ClientInfo } from '../accounts/service.js';
import { signInWith } from './admit.js';
import { SSO_CONSTRAINTS, createSsoRepo } from './repo.js';
import { parseIdpMetadata, saml } from './saml.js';
import { samlEndpoints } from './saml-schemas.js';
import type { CreateProviderInput, UpdateProviderInput } from './schemas.js';

/** How long a started sign-in may take at the identity provider (as for OIDC). */
const LOGIN_TTL_MS = 10 * 60_000;

/** Fields of OpenID Connect providers, refused on a SAML one. */
const OIDC_ONLY = ['issuer', 'client_id', 'client_secret', 'scopes'] as const;

const nameTaken = (name: string) => conflict(`An SSO provider named "${name}" already exists in this organization`, { field: 'name' });

/** What the audit shows of a SAML provider: never the metadata blob itself, its gist. */
const fields = (p: SsoProvider) => {
  const idp = parseIdpMetadata(p.idp_metadata_xml!);
  return { type: p.type, name: p.name, idp_entity_id: idp.entityId, idp_sso_url: idp.ssoUrl, idp_certificates: idp.certificates.length };
};

/**
 * SAML 2.0 providers (issue #15) beside the OpenID Connect ones: configuration from the IdP's
 * metadata, the sign-in start (an AuthnRequest remembered in sso_logins) and the ACS, which
 * ends in the same admission and session as an OIDC callback (admit.ts).
 */
export function createSamlService(deps: { db: Kysely<Database>; openSession: AccountsService['openSession'] }) {
  const { db } = deps;

  function refuseOidcFields(input: Partial<Record<(typeof OIDC_ONLY)[number], unknown>>) {
    for (const field of OIDC_ONLY) if (input[field] !== undefined) throw invalid(`body.${field}`, 'is a field of OpenID Connect providers, not of a SAML one');
  }

  return {
    async create(access: RequestAccess, input: CreateProviderInput) {
      refuseOidcFields(input);
      if (input.idp_metadata_xml === undefined) throw invalid('body.idp_metadata_xml', 'is required for a SAML provider');
      const idp = parseIdpMetadata(input.idp_metadata_xml);
      const organizationId = access.scope.organization.id;
      try {
        return await withAudit(db, access.audit, async (tx, note) => {
          const provider = await createSsoRepo(tx).insertProvider({
            id: randomUUID(),
            organization_id: organizationId,
            type: 'saml',
            name: input.name.trim(),
            issuer: idp.entityId,
            client_id: '',
            client_secret_sealed: null,
            data_key_id: null,
            scopes: '',
            idp_metadata_xml: input.idp_metadata_xml!,
          });
          note({ event_type: 'CREATE', target_type: 'sso_provider', target_id: provider.id, target_name: provider.name, change: `Added SSO provider ${provider.name}`, details: { after: fields(provider) } });
          return provider;
        });
      } catch (error) {
        throw translateConstraint(error, { [SSO_CONSTRAINTS.name]: () => nameTaken(input.name) });
      }
    },

    async update(access: RequestAccess, id: string, input: UpdateProviderInput) {
      refuseOidcFields(input);
      if (input.idp_metadata_xml !== undefined) parseIdpMetadata(input.idp_metadata_xml);
      const organizationId = access.scope.organization.id;
      try {
        return await withAudit(db, access.audit, async (tx, note) => {
          const r = createSsoRepo(tx);
          const before = await r.providerForUpdate(organizationId, id);
          if (!before) throw notFound('SSO provider');
          const changes: Partial<SsoProvider> = {};
          if (input.name !== undefined) changes.name = input.name.trim();
          if (input.idp_metadata_xml !== undefined) {
            changes.idp_metadata_xml = input.idp_metadata_xml;
            changes.issuer = parseIdpMetadata(input.idp_metadata_xml).entityId;
          }
          const after = await r.updateProvider(organizationId, id, changes);
          note({ event_type: 'UPDATE', target_type: 'sso_provider', target_id: id, target_name: after.name, change: `Updated SSO provider ${after.name}`, details: changedFields(fields(before), fields(after)) });
          return after;
        });
      } catch (error) {
        throw translateConstraint(error, { [SSO_CONSTRAINTS.name]: () => nameTaken(input.name ?? '') });
      }
    },

    /** Coffer's service provider metadata for one SAML provider; 404 for any other id. */
    async metadata(providerId: string, callbackUrl: string) {
      const provider = await createSsoRepo(db).providerById(providerId);
      if (provider?.type !== 'saml') throw notFound('SAML provider');
      return saml.spMetadata(samlEndpoints(provider.id, callbackUrl));
    },

    /** The AuthnRequest URL, and the RelayState the ACS must be given back (bound to the browser too). */
    async start(provider: SsoProvider, callbackUrl: string) {
      const sp = samlEndpoints(provider.id, callbackUrl);
      const state = randomBytes(32).toString('base64url');
      const { url, requestId } = await saml.start(parseIdpMetadata(provider.idp_metadata_xml!), sp, state, LOGIN_TTL_MS);
      await createSsoRepo(db).insertLogin({
        state_hash: hashToken(state),
        provider_id: provider.id,
        nonce: requestId,
        code_verifier: '',
        redirect_uri: sp.acsUrl,
        expires_at: new Date(Date.now() + LOGIN_TTL_MS),
      });
      return { url, state };
    },

    /**
     * The ACS: the RelayState names a pending sign-in (and must be the one this browser
     * started); the response is verified against it; the assertion and the sign-in are used
     * once, in the transaction that admits the person.
     */
    async acs(body: { SAMLResponse?: string; RelayState?: string }, boundState: string | undefined, client: ClientInfo, context: Omit<AuditContext, 'organizationId' | 'actor'>) {
      if (!body.SAMLResponse) throw invalid('body.SAMLResponse', 'is required');
      if (!body.RelayState) throw invalid('body.RelayState', 'is required (Coffer accepts only sign-ins it started)');
      if (boundState !== body.RelayState) throw new AppError('UNAUTHENTICATED', 'The sign-in state does not match the one this browser started; start the sign-in again');
      const stateHash = hashToken(body.RelayState);
      const login = await db
        .selectFrom('sso_logins')
        .selectAll()
        .where('state_hash', '=', stateHash)
        .where('expires_at', '>', new Date())
        .executeTakeFirst();
      // A used sign-in still reaches verification: a replayed response is named as such below.
      if (!login) throw new AppError('UNAUTHENTICATED', 'This sign-in is unknown, expired or already used; start the sign-in again');
      const provider = await createSsoRepo(db).providerById(login.provider_id);
      if (provider?.type !== 'saml') throw new AppError('UNAUTHENTICATED', 'The SSO provider of this sign-in was removed');

      const sp = samlEndpoints(provider.id, new URL('../callback', login.redirect_uri).href);
      const identity = await saml.finish(parseIdpMetadata(provider.idp_metadata_xml!), sp, body.SAMLResponse, { id: login.nonce, createdAt: login.created_at }, LOGIN_TTL_MS);
      const email = typeof identity.claims.email === 'string' ? identity.claims.email.trim().toLowerCase() : undefined;
      // SAML has no email_verified: the organization's IdP asserting the address is its word for it.
      if (!email || !email.includes('@')) throw new AppError('FORBIDDEN', `The identity provider ${provider.name} sent no email for this person (an email attribute or an emailAddress NameID); Coffer signs people in by email`);

      return signInWith(db, deps.openSession, provider, email, identity.claims, client, context, { first: async (tx) => {
        // Replay: an assertion is used once, on every instance (the table is shared).
        await tx.deleteFrom('sso_saml_assertions').where('expires_at', '<', new Date()).execute();
        const fresh = await tx
          .insertInto('sso_saml_assertions')
          .values({ provider_id: provider.id, assertion_id: identity.assertionId, expires_at: identity.expiresAt })
          .onConflict((oc) => oc.doNothing())
          .returning('assertion_id')
          .executeTakeFirst();
        if (!fresh) throw new AppError('UNAUTHENTICATED', "The identity provider's SAML response was refused: its assertion was already used (a replay); start the sign-in again");
        const used = await tx
          .updateTable('sso_logins')
          .set({ used_at: new Date() })
          .where('state_hash', '=', stateHash)
          .where('used_at', 'is', null)
          .returning('state_hash')
          .executeTakeFirst();
        if (!used) throw new AppError('UNAUTHENTICATED', 'This sign-in is unknown, expired or already used; start the sign-in again');
      } });
    },
  };
}

export type SamlService = ReturnType<typeof createSamlService>;
