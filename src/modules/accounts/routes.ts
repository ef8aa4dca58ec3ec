import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../kernel/http/app-types.js';
import { userOf } from '../../kernel/http/context.js';
import { errorResponses } from '../../kernel/http/schemas.js';
import { renderedJson } from '../../kernel/http/rendered.js';
import type { AccountsService } from './service.js';
import { LoginBody, LoginResponse, MeResponse, SessionParams, SessionView, SignupBody, UserView, toUserView } from './schemas.js';

export const SESSION_COOKIE = 'coffer_session';
export const CSRF_COOKIE = 'coffer_csrf';

const tags = ['accounts'];

export function accountsRoutes(app: App, service: AccountsService, sessionTtlSeconds: number) {
  const renderMe = renderedJson<Awaited<ReturnType<AccountsService['me']>>>();
  const client = (request: FastifyRequest) => ({
    ip: request.ip ?? null,
    userAgent: request.headers['user-agent'] ?? null,
  });

  app.post('/auth/signup', {
    config: { access: 'public' },
    schema: { tags, summary: 'Create an account', body: SignupBody, response: { 201: Type.Object({ user: UserView }), ...errorResponses } },
    handler: async (request, reply) => {
      const user = await service.signup(request.body, client(request));
      return reply.code(201).send({ user: toUserView(user) });
    },
  });

  app.post('/auth/login', {
    config: { access: 'public' },
    schema: {
      tags,
      summary: 'Sign in: returns a session token and sets an HttpOnly session cookie',
      body: LoginBody,
      response: { 200: LoginResponse, ...errorResponses },
    },
    handler: async (request, reply) => {
      const { token, csrfToken, session, user } = await service.login(request.body, client(request));
      setSessionCookies(request, reply, token, csrfToken, sessionTtlSeconds);
      return {
        token,
        csrf_token: csrfToken,
        expires_at: session.expires_at.toISOString(),
        user: toUserView(user),
      };
    },
  });

  app.post('/auth/logout', {
    config: { access: 'authenticated' },
    schema: { tags, summary: 'End the current session', response: { 204: Type.Null(), ...errorResponses } },
    handler: async (request, reply) => {
      await service.logout(userOf(request));
      reply.clearCookie(SESSION_COOKIE, { path: '/' }).clearCookie(CSRF_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    },
  });

  app.get('/me', {
    config: { access: 'authenticated' },
    schema: { tags, summary: 'The signed-in user and their organizations', response: { 200: MeResponse, ...errorResponses } },
    // The cached answer per user (see service.me) is sent as the bytes rendered from it.
    handler: async (request, reply) => {
      const me = await service.me(userOf(request));
      return renderMe(reply, me, () => ({ user: toUserView(me.user), organizations: me.organizations }));
    },
  });

  app.get('/me/sessions', {
    config: { access: 'authenticated' },
    schema: { tags, summary: "The signed-in user's live sessions", response: { 200: Type.Object({ items: Type.Array(SessionView) }), ...errorResponses } },
    handler: async (request) => {
      const principal = userOf(request);
      const sessions = await service.sessions(principal);
      return {
        items: sessions.map((s) => ({
          id: s.id,
          created_at: s.created_at.toISOString(),
          last_seen_at: s.last_seen_at.toISOString(),
          expires_at: s.expires_at.toISOString(),
          ip: s.ip,
          user_agent: s.user_agent,
          current: s.id === principal.session.id,
        })),
      };
    },
  });

  app.get('/me/security-events', {
    config: { access: 'authenticated' },
    schema: {
      tags,
      summary: 'Sign-ins and failed sign-in attempts on your account (the latest 100)',
      response: {
        200: Type.Object({
          items: Type.Array(
            Type.Object({
              event_type: Type.String(),
              occurred_at: Type.String({ format: 'date-time' }),
              source_ip: Type.Union([Type.String(), Type.Null()]),
              user_agent: Type.Union([Type.String(), Type.Null()]),
            }),
          ),
        }),
        ...errorResponses,
      },
    },
    handler: async (request) => ({
      items: (await service.securityEvents(userOf(request))).map((event) => ({
        event_type: event.event_type,
        occurred_at: event.occurred_at.toISOString(),
        source_ip: event.source_ip,
        user_agent: event.user_agent,
      })),
    }),
  });

  app.delete('/me/sessions/:session_id', {
    config: { access: 'authenticated' },
    schema: { tags, summary: 'Revoke one of your sessions', params: SessionParams, response: { 204: Type.Null(), ...errorResponses } },
    handler: async (request, reply) => {
      await service.revokeSession(userOf(request), request.params.session_id);
      return reply.code(204).send(null);
    },
  });
}

/** Sets the session cookie and the CSRF cookie the console echoes: one rule for every way of signing in. */
export function setSessionCookies(request: FastifyRequest, reply: FastifyReply, token: string, csrfToken: string, maxAge: number) {
  const secure = request.protocol === 'https';
  reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge });
  // Readable by the console's script, which echoes it in X-CSRF-Token.
  reply.setCookie(CSRF_COOKIE, csrfToken, { path: '/', httpOnly: false, sameSite: 'lax', secure, maxAge });
}

/** Finds the session token in `Authorization: Bearer|Token …` or, failing that, the session cookie. */
export function sessionCredential(request: FastifyRequest): { token: string; via: 'cookie' | 'header' } | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^(?:Bearer|Token)\s+(\S+)\s*$/i.exec(header);
    return match ? { token: match[1]!, via: 'header' } : { token: '', via: 'header' };
  }
  const cookie = request.cookies?.[SESSION_COOKIE];
  return cookie ? { token: cookie, via: 'cookie' } : undefined;
}
