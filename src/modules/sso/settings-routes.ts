import { Type } from 'typebox';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf } from '../../kernel/http/context.js';
import { OrgParams, errorResponses, noContent } from '../../kernel/http/schemas.js';
import type { SsoSettingsService } from './settings-service.js';
import { AddDomainBody, DomainParams, DomainView, RoleMappingsBody, RoleMappingsView, toDomainView, toRoleMappingsView } from './settings-schemas.js';
import { notFound } from '../../kernel/errors.js';

const tags = ['sso'];
const setup = { access: { action: 'organization:setup' as const, resource: 'organization' as const } };

export function ssoSettingsRoutes(app: App, service: SsoSettingsService) {
  app.post('/orgs/:org/sso/domains', {
    config: setup,
    schema: { tags, summary: 'Claim an email domain: answers the DNS TXT record that proves it', params: OrgParams, body: AddDomainBody, response: { 201: DomainView, ...errorResponses } },
    handler: async (request, reply) => reply.code(201).send(toDomainView(await service.addDomain(accessOf(request), request.body))),
  });

  app.get('/orgs/:org/sso/domains', {
    config: setup,
    schema: { tags, summary: "The organization's email domains", params: OrgParams, response: { 200: Type.Object({ items: Type.Array(DomainView) }), ...errorResponses } },
    handler: async (request) => ({ items: (await service.listDomains(accessOf(request))).map(toDomainView) }),
  });

  app.post('/orgs/:org/sso/domains/:domain_id/verify', {
    config: setup,
    schema: { tags, summary: 'Look the TXT record up in DNS now: verified when it holds the token (422 when not yet)', params: DomainParams, response: { 200: DomainView, ...errorResponses } },
    handler: async (request) => toDomainView(await service.verifyDomain(accessOf(request), request.params.domain_id)),
  });

  app.delete('/orgs/:org/sso/domains/:domain_id', {
    config: setup,
    schema: { tags, summary: 'Remove an email domain: nobody more is provisioned from it', params: DomainParams, response: { 204: Type.Null(), ...errorResponses } },
    handler: async (request, reply) => noContent(reply, service.deleteDomain(accessOf(request), request.params.domain_id)),
  });

  app.get('/orgs/:org/sso/role-mappings', {
    config: setup,
    schema: { tags, summary: 'How SSO sign-ins set roles (404 when roles do not follow the identity provider)', params: OrgParams, response: { 200: RoleMappingsView, ...errorResponses } },
    handler: async (request) => {
      const mappings = await service.roleMappings(accessOf(request));
      if (!mappings) throw notFound('SSO role mappings');
      return toRoleMappingsView(mappings);
    },
  });

  app.put('/orgs/:org/sso/role-mappings', {
    config: setup,
    schema: { tags, summary: 'Map values of a groups claim to roles, re-evaluated at every SSO sign-in; highest role wins', params: OrgParams, body: RoleMappingsBody, response: { 200: RoleMappingsView, ...errorResponses } },
    handler: async (request) => toRoleMappingsView(await service.putRoleMappings(accessOf(request), request.body)),
  });

  app.delete('/orgs/:org/sso/role-mappings', {
    config: setup,
    schema: { tags, summary: 'Stop mapping roles: members keep the roles they have', params: OrgParams, response: { 204: Type.Null(), ...errorResponses } },
    handler: async (request, reply) => noContent(reply, service.deleteRoleMappings(accessOf(request))),
  });
}
