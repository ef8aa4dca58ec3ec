/**
 * Who is making a request, built once by authentication and handed to every service.
 * Sessions and (later) API tokens both yield one of these.
 */
export interface UserPrincipal {
  kind: 'user';
  user: { id: string; email: string; name: string };
  session: {
    id: string;
    /** A cookie-borne session needs CSRF protection on state-changing requests; a bearer does not. */
    via: 'cookie' | 'header';
    csrfToken: string;
  };
}

export type Principal = UserPrincipal;

/** A short human label for logs and messages: never a credential. */
export function principalLabel(principal: Principal): string {
  return principal.user.email;
}
