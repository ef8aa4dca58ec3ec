import type * as OpenIdClient from 'openid-client';
import { AppError } from '../../kernel/errors.js';

/** What the protocol needs of a stored provider, the secret already unsealed. */
export interface OidcClient {
  id: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
}

/** http is allowed only to a loopback host (a provider on the same machine, RFC 8252 §7.3 in spirit). */
export function isLoopbackHttp(issuer: URL): boolean {
  return issuer.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(issuer.hostname);
}

const DISCOVERY_TTL_MS = 10 * 60_000;

/** openid-client (and jose, oauth4webapi) load on the first sign-in, not at every start. */
let loading: Promise<typeof OpenIdClient> | undefined;
const openIdClient = () => (loading ??= import('openid-client'));

/**
 * The protocol half of OpenID Connect sign-in, on openid-client: discovery (cached per
 * provider for ten minutes), the authorization URL with PKCE S256, state and nonce, and the
 * code exchange whose ID token openid-client verifies (signature against the issuer's JWKS,
 * iss, aud, exp, nonce).
 */
export function createOidc() {
  const discovered = new Map<string, { config: OpenIdClient.Configuration; at: number; secret: string }>();

  async function configuration(provider: OidcClient): Promise<OpenIdClient.Configuration> {
    const hit = discovered.get(provider.id);
    if (hit && Date.now() - hit.at < DISCOVERY_TTL_MS && hit.secret === provider.clientSecret) return hit.config;
    const issuer = new URL(provider.issuer);
    const client = await openIdClient();
    try {
      const config = await client.discovery(issuer, provider.clientId, undefined, client.ClientSecretBasic(provider.clientSecret), {
        ...(isLoopbackHttp(issuer) ? { execute: [client.allowInsecureRequests] } : {}),
        timeout: 10,
      });
      // openid-client skips the ID token's signature when it came over TLS from the token
      // endpoint (OIDC Core §3.1.3.7 allows it); the issue asks for it checked against the JWKS.
      client.enableNonRepudiationChecks(config);
      discovered.set(provider.id, { config, at: Date.now(), secret: provider.clientSecret });
      return config;
    } catch (error) {
      throw new AppError('UNAVAILABLE', `The identity provider ${provider.issuer} could not be discovered: ${describe(client, error)}`);
    }
  }

  return {
    forget: (providerId: string) => discovered.delete(providerId),

    /** The URL to send the browser to, with the values the callback must present again. */
    async start(provider: OidcClient, redirectUri: string, scopes: string) {
      const config = await configuration(provider);
      const client = await openIdClient();
      const codeVerifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: scopes,
        response_type: 'code',
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return { url: url.href, state, nonce, codeVerifier };
    },

    /**
     * Exchanges the code and returns the verified identity: the ID token's claims, completed
     * from the UserInfo endpoint when the token lacks the email or a claim in `wanted` (the
     * groups claim roles are mapped from): providers may put them only there.
     */
    async finish(provider: OidcClient, callbackUrl: URL, checks: { state: string; nonce: string; codeVerifier: string }, wanted: readonly string[] = []) {
      const config = await configuration(provider);
      const client = await openIdClient();
      let claims: Record<string, unknown>;
      let accessToken: string;
      let refreshToken: string | undefined;
      try {
        const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        });
        claims = { ...tokens.claims()! };
        accessToken = tokens.access_token;
        refreshToken = tokens.refresh_token;
      } catch (error) {
        throw new AppError('UNAUTHENTICATED', `The identity provider's answer was refused: ${describe(client, error)}`);
      }
      if (typeof claims.email !== 'string' || wanted.some((name) => claims[name] === undefined)) {
        try {
          const info = await client.fetchUserInfo(config, accessToken, String(claims.sub));
          claims = { ...info, ...claims, email: info.email, email_verified: info.email_verified };
        } catch (error) {
          throw new AppError('UNAUTHENTICATED', `The identity provider's user information was refused: ${describe(client, error)}`);
        }
      }
      return { claims, refreshToken };
    },

    /**
     * The person's current claims, without them (sync now): the refresh-token grant, then the
     * UserInfo endpoint for that subject. `refused` when the IdP refuses the grant
     * (invalid_grant: the person was removed or disabled, or the token revoked); any other
     * failure (the IdP unreachable …) is thrown, and must not be read as a refusal.
     */
    async refresh(provider: OidcClient, refreshToken: string, subject: string): Promise<{ refused: string } | { claims: Record<string, unknown>; refreshToken: string }> {
      const config = await configuration(provider);
      const client = await openIdClient();
      let tokens: Awaited<ReturnType<typeof client.refreshTokenGrant>>;
      try {
        tokens = await client.refreshTokenGrant(config, refreshToken);
      } catch (error) {
        if (error instanceof client.ResponseBodyError && error.error === 'invalid_grant') return { refused: describe(client, error) };
        throw new AppError('UNAVAILABLE', `The identity provider ${provider.issuer} could not refresh the sign-in: ${describe(client, error)}`);
      }
      try {
        const info = await client.fetchUserInfo(config, tokens.access_token, subject);
        return { claims: { ...tokens.claims(), ...info }, refreshToken: tokens.refresh_token ?? refreshToken };
      } catch (error) {
        if (error instanceof client.WWWAuthenticateChallengeError || (error instanceof client.ResponseBodyError && error.error === 'invalid_token')) return { refused: describe(client, error) };
        throw new AppError('UNAVAILABLE', `The identity provider ${provider.issuer} did not answer the user information: ${describe(client, error)}`);
      }
    },
  };
}

export type Oidc = ReturnType<typeof createOidc>;

/** openid-client's message (it names the failed check: state, nonce, aud …), or the IdP's error. */
function describe(client: typeof OpenIdClient, error: unknown): string {
  if (error instanceof client.AuthorizationResponseError) return `${error.error}${error.error_description ? `: ${error.error_description}` : ''}`;
  if (error instanceof client.ResponseBodyError) return `${error.error}${error.error_description ? `: ${error.error_description}` : ''}`;
  if (error instanceof client.WWWAuthenticateChallengeError) {
    // A 401 with a challenge (e.g. the client secret was refused): its error parameter says why.
    const parameters = error.cause[0]?.parameters;
    if (parameters?.error) return `${parameters.error}${parameters.error_description ? `: ${parameters.error_description}` : ''}`;
  }
  if (!(error instanceof Error)) return 'unknown error';
  // openid-client's own message is generic ("unexpected JWT claim value encountered"); the
  // oauth4webapi error it wraps names the claim ("aud", "exp", "nonce") or the failed check.
  const cause = error.cause instanceof Error && error.cause.message !== error.message ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
