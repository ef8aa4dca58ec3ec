import { Type } from 'typebox';
import type { App } from '../../kernel/http/app-types.js';
import { accessOf } from '../../kernel/http/context.js';
import { OrgParams, Page, errorResponses, noContent } from '../../kernel/http/schemas.js';
import type { WebhooksService } from './service.js';
import { CreateWebhookBody, CreatedWebhookView, DeliveryListQuery, DeliveryParams, DeliveryView, UpdateWebhookBody, WebhookParams, WebhookView } from './schemas.js';

const tags = ['webhooks'];
// SPEC §2.1: webhooks are organization settings (organization:setup), never a custom role's.
const setup = { access: { action: 'organization:setup' as const, resource: 'organization' as const } };

export function webhookRoutes(app: App, service: WebhooksService) {
  app.post('/orgs/:org/webhooks', {
    config: setup,
    schema: { tags, summary: 'Add a webhook; the signing secret is in this answer only', params: OrgParams, body: CreateWebhookBody, response: { 201: CreatedWebhookView, ...errorResponses } },
    handler: async (request, reply) => reply.code(201).send(await service.create(accessOf(request), request.body)),
  });

  app.get('/orgs/:org/webhooks', {
    config: setup,
    schema: { tags, summary: "The organization's webhooks (never their secrets)", params: OrgParams, response: { 200: Type.Object({ items: Type.Array(WebhookView) }), ...errorResponses } },
    handler: async (request) => service.list(accessOf(request)),
  });

  app.get('/orgs/:org/webhooks/:webhook_id', {
    config: setup,
    schema: { tags, summary: 'One webhook', params: WebhookParams, response: { 200: WebhookView, ...errorResponses } },
    handler: async (request) => service.get(accessOf(request), request.params.webhook_id),
  });

  app.patch('/orgs/:org/webhooks/:webhook_id', {
    config: setup,
    schema: { tags, summary: 'Change a webhook; {"enabled": true} re-enables one disabled after failures', params: WebhookParams, body: UpdateWebhookBody, response: { 200: WebhookView, ...errorResponses } },
    handler: async (request) => service.update(accessOf(request), request.params.webhook_id, request.body),
  });

  app.delete('/orgs/:org/webhooks/:webhook_id', {
    config: setup,
    schema: { tags, summary: 'Delete a webhook and its delivery log', params: WebhookParams, response: { 204: Type.Null(), ...errorResponses } },
    handler: async (request, reply) => noContent(reply, service.delete(accessOf(request), request.params.webhook_id)),
  });

  app.get('/orgs/:org/webhooks/:webhook_id/deliveries', {
    config: setup,
    schema: { tags, summary: 'Delivery log, newest first: status, attempts, last status code and latency', params: WebhookParams, querystring: DeliveryListQuery, response: { 200: Page(DeliveryView), ...errorResponses } },
    handler: async (request) => service.deliveries(accessOf(request), request.params.webhook_id, request.query.cursor, request.query.limit ?? 50),
  });

  app.post('/orgs/:org/webhooks/:webhook_id/deliveries/:delivery_id/redeliver', {
    config: setup,
    schema: { tags, summary: 'Send a delivery again (a new delivery with the same body)', params: DeliveryParams, response: { 202: DeliveryView, ...errorResponses } },
    handler: async (request, reply) => reply.code(202).send(await service.redeliver(accessOf(request), request.params.webhook_id, request.params.delivery_id)),
  });
}
