import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { sendError, toAppError } from '../../kernel/http/error-handler.js';

/**
 * Where a refused SSO sign-in sends a browser: the console's sign-in page, which shows it.
 * The code rides in the URL; the message (which may name the person's email or quote the
 * IdP) in a short-lived cookie scoped to that page, so a crafted link cannot put words of its
 * own on Coffer's page and the email stays out of URLs and access logs.
 */
export const SIGN_IN_PAGE = '/signin';
export const SSO_ERROR_COOKIE = 'coffer_sso_error';
const MESSAGE_LIMIT = 1000;

/**
 * A browser navigating (it asks for HTML, as every browser does on a top-level navigation)
 * gets the page; any other client (curl, a script, the tests' HTTP client) the usual JSON error.
 */
export function wantsPage(request: FastifyRequest): boolean {
  return /\btext\/html\b/i.test(request.headers.accept ?? '');
}

/**
 * The error handler of the browser-facing SSO routes (start, callback, ACS): a refusal ends in
 * a 302 to the sign-in page for a browser, in the JSON error for an API client. 5xx are logged
 * as the app's own handler logs them.
 */
export function ssoRefusalHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const refusal = toAppError(error);
  if (refusal.status >= 500) request.log.error({ err: error }, 'SSO sign-in failed');
  if (!wantsPage(request)) return sendError(request, reply, refusal);
  const message = refusal.message.length > MESSAGE_LIMIT ? `${refusal.message.slice(0, MESSAGE_LIMIT - 1)}…` : refusal.message;
  reply.setCookie(SSO_ERROR_COOKIE, JSON.stringify({ code: refusal.code, message, request_id: request.id }), {
    path: SIGN_IN_PAGE,
    httpOnly: false,
    sameSite: 'lax',
    secure: request.protocol === 'https',
    maxAge: 300,
  });
  return reply.redirect(`${SIGN_IN_PAGE}?sso_error=${encodeURIComponent(refusal.code)}`, 302);
}
