import { Type } from 'typebox';
import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import { notFound } from '../../kernel/errors.js';
import type { App } from '../../kernel/http/app-types.js';
import { errorResponses, Slug } from '../../kernel/http/schemas.js';
import { PublicProvidersView } from './schemas.js';
import { DOMAIN_PATTERN } from './settings-schemas.js';

export const DiscoverQuery = Type.Object(
  { domain: Type.String({ pattern: DOMAIN_PATTERN, maxLength: 254, description: 'The email domain, e.g. example.com (the part after @)' }) },
  { additionalProperties: false },
);

export const DiscoveryView = Type.Object({
  organization: Slug,
  items: PublicProvidersView.properties.items,
});

/**
 * Single sign-on found by email domain, for the console's sign-in page: a domain verified by
 * an organization (a verified domain belongs to one organization at most) names that
 * organization and its providers. An unverified, unknown or provider-less domain answers one
 * and the same 404, so the endpoint tells nothing about domains merely claimed.
 */
export function ssoDiscoveryRoutes(app: App, deps: { db: Kysely<Database>; apiPrefix: string }) {
  app.get('/auth/sso/discover', {
    config: { access: 'public' },
    schema: {
      tags: ['sso'],
      summary: 'The organization and identity providers of a verified email domain, for the sign-in page (404 when it has none)',
      querystring: DiscoverQuery,
      response: { 200: DiscoveryView, ...errorResponses },
    },
    handler: async (request) => {
      const domain = request.query.domain.toLowerCase().replace(/\.$/, '');
      const org = await deps.db
        .selectFrom('sso_domains')
        .innerJoin('organizations', 'organizations.id', 'sso_domains.organization_id')
        .select(['organizations.id', 'organizations.slug'])
        .where('sso_domains.domain', '=', domain)
        .where('sso_domains.verified_at', 'is not', null)
        .executeTakeFirst();
      const providers = org
        ? await deps.db.selectFrom('sso_providers').select(['id', 'name', 'type']).where('organization_id', '=', org.id).orderBy('created_at').orderBy('id').execute()
        : [];
      if (!org || providers.length === 0) throw notFound(`Single sign-on for email domain ${domain}`);
      return {
        organization: org.slug,
        items: providers.map((p) => ({ ...p, start_url: `${deps.apiPrefix}/auth/sso/${org.slug}/start?provider=${p.id}` })),
      };
    },
  });
}
