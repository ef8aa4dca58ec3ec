import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf, scopeOf, userOf } from '../../kernel/http/context.js';
import { auditContextOf } from '../../kernel/http/audit-context.js';
import { decodeCursor, toPage } from '../../kernel/http/pagination.js';
import { Page, PageQuery, errorResponses, OrgParams } from '../../kernel/http/schemas.js';
import {
  CreateOrganizationBody,
  OrganizationView,
  SettingsBody,
  UpdateOrganizationBody,
  toOrganizationView,
} from './schemas.js';
import type { OrganizationsService } from './service.js';

const tags = ['organizations'];

export function organizationRoutes(app: App, service: OrganizationsService) {
  /** Both edits (names, settings) answer the organization as edited, with the caller's role in it. */
  async function update(request: FastifyRequest, changes: Parameters<OrganizationsService['update']>[2]) {
    const { organization, membership } = scopeOf(request);
    return toOrganizationView(await service.update(accessOf(request), organization, changes), membership?.role);
  }

  app.post('/orgs', {
    config: { access: 'authenticated' },
    schema: {
      tags,
      summary: 'Create an organization; you become its OWNER',
      body: CreateOrganizationBody,
      response: { 201: OrganizationView, ...errorResponses },
    },
    handler: async (request, reply) => {
      const user = userOf(request);
      const { organizationId: _, ...context } = auditContextOf(request, user, '');
      const org = await service.create(user, request.body, context);
      return reply.code(201).send(toOrganizationView(org, 'OWNER'));
    },
  });

  app.get('/orgs', {
    config: { access: 'authenticated' },
    schema: { tags, summary: 'Organizations you belong to', querystring: PageQuery, response: { 200: Page(OrganizationView), ...errorResponses } },
    handler: async (request) => {
      const limit = request.query.limit ?? 50;
      const rows = await service.listForUser(userOf(request), decodeCursor(request.query.cursor), limit + 1);
      return toPage(rows, limit, (row) => row.slug, (row) => toOrganizationView(row, row.role));
    },
  });

  app.get('/orgs/:org', {
    config: { access: { action: 'organization:read', resource: 'organization' } },
    schema: { tags, summary: 'One organization', params: OrgParams, response: { 200: OrganizationView, ...errorResponses } },
    handler: async (request) => {
      const { organization, membership } = scopeOf(request);
      return toOrganizationView(organization, membership?.role);
    },
  });

  app.patch('/orgs/:org', {
    config: { access: { action: 'organization:write', resource: 'organization' } },
    schema: {
      tags,
      summary: 'Rename an organization or change its slug',
      params: OrgParams,
      body: UpdateOrganizationBody,
      response: { 200: OrganizationView, ...errorResponses },
    },
    handler: async (request) => update(request, request.body),
  });

  app.patch('/orgs/:org/settings', {
    // Organization setup (SPEC §2.1: settings, retention) is its own right: DEVOPS holds it, not organization:write.
    config: { access: { action: 'organization:setup', resource: 'organization' } },
    schema: {
      tags,
      summary: 'Change organization settings: audit retention_days, enforce_sso',
      params: OrgParams,
      body: SettingsBody,
      response: { 200: OrganizationView, ...errorResponses },
    },
    handler: async (request) => update(request, request.body),
  });

  app.delete('/orgs/:org', {
    config: { access: { action: 'organization:delete', resource: 'organization' } },
    schema: { tags, summary: 'Delete an organization and everything in it', params: OrgParams, response: { 204: Type.Null(), ...errorResponses } },
    handler: async (request, reply) => {
      await service.delete(accessOf(request), scopeOf(request).organization);
      return reply.code(204).send(null);
    },
  });
}
