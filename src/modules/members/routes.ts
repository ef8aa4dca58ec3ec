import { Type } from 'typebox';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf, scopeOf, userOf } from '../../kernel/http/context.js';
import { auditContextOf } from '../../kernel/http/audit-context.js';
import { decodeCursor, toPage } from '../../kernel/http/pagination.js';
import { Page, PageQuery, errorResponses, OrgParams, noContent } from '../../kernel/http/schemas.js';
import {
  AcceptParams,
  AcceptedInvitation,
  ChangeRoleBody,
  MemberParams,
  RoleAssignment,
  TransferBody,
  CreatedInvitation,
  InvitationParams,
  InvitationView,
  InviteBody,
  MemberView,
  toInvitationView,
} from './schemas.js';
import type { MembersService } from './service.js';
import { requireWholeOrganization } from '../../kernel/authz/token-scopes.js';
import type { AttemptLimit } from '../accounts/rate-limit.js';

const tags = ['members'];

export function memberRoutes(app: App, service: MembersService, acceptLimit: AttemptLimit) {
  app.get('/orgs/:org/members', {
    config: { access: { action: 'organization:read', resource: 'organization' } },
    schema: { tags, summary: 'Members and their roles', params: OrgParams, querystring: PageQuery, response: { 200: Page(MemberView), ...errorResponses } },
    handler: async (request) => {
      requireWholeOrganization(accessOf(request), 'the member list');
      const limit = request.query.limit ?? 50;
      const rows = await service.list(scopeOf(request).organization, decodeCursor(request.query.cursor), limit + 1);
      return toPage(rows, limit, (row) => row.email, (row) => ({
        user_id: row.user_id,
        email: row.email,
        name: row.name,
        role: row.role,
        role_id: row.role_id,
        role_name: row.role_name,
        joined_at: row.created_at.toISOString(),
      }));
    },
  });

  app.patch('/orgs/:org/members/:user_id', {
    config: { access: { action: 'member:manage', resource: 'organization' } },
    schema: {
      tags,
      summary: "Change a member's role: {role} for a system role or {role_id} for a custom role; effective on their next request",
      params: MemberParams,
      body: ChangeRoleBody,
      response: { 200: RoleAssignment, ...errorResponses },
    },
    handler: async (request) => ({
      user_id: request.params.user_id,
      ...(await service.changeRole(accessOf(request), request.params.user_id, request.body)),
    }),
  });

  app.delete('/orgs/:org/members/:user_id', {
    // Anyone may leave; removing someone else needs member:manage (checked below).
    config: { access: { action: 'organization:read', resource: 'organization' } },
    schema: { tags, summary: 'Remove a member, or leave (your own user id)', params: MemberParams, response: { 204: Type.Null(), ...errorResponses } },
    handler: async (request, reply) => {
      const access = accessOf(request);
      // UUIDs compare case-insensitively, as the database compares them.
      const self = access.principal.kind === 'user' && request.params.user_id.toLowerCase() === access.principal.user.id;
      if (!self) {
        access.require('member:manage', { kind: 'organization', organization: access.scope.organization });
      }
      await service.remove(access, request.params.user_id);
      return reply.code(204).send(null);
    },
  });

  app.post('/orgs/:org/transfer-ownership', {
    // The catalogue has no "transfer" action: only the OWNER may, which the service checks.
    config: { access: { action: 'member:manage', resource: 'organization' } },
    schema: {
      tags,
      summary: 'Make another member the OWNER; you become ADMIN (OWNER only)',
      params: OrgParams,
      body: TransferBody,
      response: { 204: Type.Null(), ...errorResponses },
    },
    handler: async (request, reply) => noContent(reply, service.transferOwnership(accessOf(request), request.body.user_id)),
  });

  app.post('/orgs/:org/invitations', {
    config: { access: { action: 'member:manage', resource: 'organization' } },
    schema: {
      tags,
      summary: 'Invite someone by email; the response carries the one-time token',
      params: OrgParams,
      body: InviteBody,
      response: { 201: CreatedInvitation, ...errorResponses },
    },
    handler: async (request, reply) => {
      const { invitation, token } = await service.invite(accessOf(request), request.body);
      return reply.code(201).send({ ...toInvitationView(invitation), token });
    },
  });

  app.get('/orgs/:org/invitations', {
    config: { access: { action: 'member:manage', resource: 'organization' } },
    schema: { tags, summary: 'Pending invitations', params: OrgParams, response: { 200: Type.Object({ items: Type.Array(InvitationView) }), ...errorResponses } },
    handler: async (request) => ({ items: (await service.pending(scopeOf(request).organization)).map(toInvitationView) }),
  });

  app.delete('/orgs/:org/invitations/:invitation_id', {
    config: { access: { action: 'member:manage', resource: 'organization' } },
    schema: { tags, summary: 'Withdraw a pending invitation', params: InvitationParams, response: { 204: Type.Null(), ...errorResponses } },
    handler: async (request, reply) => noContent(reply, service.revoke(accessOf(request), request.params.invitation_id)),
  });

  app.post('/invitations/:token/accept', {
    config: { access: 'authenticated' },
    schema: {
      tags,
      summary: 'Accept an invitation addressed to your email',
      params: AcceptParams,
      response: { 200: AcceptedInvitation, ...errorResponses },
    },
    handler: async (request) => {
      const user = userOf(request);
      const { organizationId: _, ...context } = auditContextOf(request, user, '');
      // Counted before the token is looked up; only failed acceptances keep their count.
      const attempt = { ip: request.ip ?? null, email: user.user.email };
      await acceptLimit.attempt(attempt);
      const invitation = await service.accept(user, request.params.token, context);
      await acceptLimit.succeeded(attempt);
      return {
        organization: { id: invitation.organization_id, slug: invitation.organization_slug, name: invitation.organization_name },
        role: invitation.role,
      };
    },
  });
}
