import type { FastifyInstance } from 'fastify';

/**
 * Every route refuses query parameters it does not declare, with a 400 naming the first one
 * (`query.foo: is not a known field`): a secret pasted into a URL by mistake (`?token=…`) is
 * refused rather than silently accepted, and a misspelt filter is not ignored. Set here, once,
 * on each route's querystring schema as it is registered, so no route can forget it; a route
 * that declares none gets an empty one.
 */
export function refuseUnknownQueryParameters(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const schema = (route.schema ??= {}) as { querystring?: Record<string, unknown> };
    const query = schema.querystring;
    if (query === undefined) {
      schema.querystring = { type: 'object', properties: {}, additionalProperties: false };
    } else if (query.type === 'object' && query.additionalProperties === undefined) {
      // A copy: the same schema object (e.g. PageQuery) is shared by many routes.
      schema.querystring = { ...query, additionalProperties: false };
    }
  });
}
