import { AppError } from './errors.js';
import type { Action } from './authz/catalogue.js';

/**
 * Who is making a request, built once by authentication and handed to every service.
 * Sessions yield a user; API tokens (SPEC §5) yield a token of one organization.
 */
export interface UserPrincipal {
  kind: 'user';
  user: { id: string; email: string; name: string };
  session: {
    id: string;
    /** A cookie-borne session needs CSRF protection on state-changing requests; a bearer does not. */
    via: 'cookie' | 'header';
    csrfToken: string;
    /** The organization whose identity provider opened the session; null when opened by password. */
    ssoOrganizationId: string | null;
  };
}

/** Where a token may act: nothing set means the whole organization. */
export interface TokenPath {
  projectId?: string;
  environmentId?: string;
  serviceId?: string;
}

export interface TokenPrincipal {
  kind: 'token';
  token: {
    id: string;
    name: string;
    organizationId: string;
    scopes: ReadonlySet<Action>;
    path: TokenPath;
  };
}

export type Principal = UserPrincipal | TokenPrincipal;

/** The id that stands for the principal in membership lookups and records. */
export function principalId(principal: Principal): string {
  return principal.kind === 'user' ? principal.user.id : principal.token.id;
}

/** For what only a person may do (their sessions, creating organizations, minting tokens). */
export function requireUser(principal: Principal): UserPrincipal {
  if (principal.kind !== 'user') {
    throw new AppError('FORBIDDEN', 'This needs a signed-in user; API tokens cannot do it');
  }
  return principal;
}
