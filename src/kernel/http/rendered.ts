import type { FastifyReply } from 'fastify';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Answers rendered once per cached value. A route whose data comes from a cache (kept until
 * a change drops it) serialises a value the first time with the route's own response schema
 * (the bytes returning it would send) and sends those bytes, length known, on every later
 * hit. Keyed by the cached object itself: a value dropped from its cache takes its rendering
 * with it (a WeakMap), and the value that replaces it is rendered anew, so nothing here needs
 * invalidating. `view` must depend on nothing but `key` (and what the caller's choice of
 * renderer stands for, e.g. one renderer per variant of a view).
 */
export function renderedJson<K extends object>() {
  const rendered = new WeakMap<K, Buffer>();
  return async (reply: FastifyReply, key: K, view: () => unknown): Promise<FastifyReply> => {
    let bytes = rendered.get(key);
    if (bytes === undefined) {
      bytes = Buffer.from(reply.serialize(await view()) as string);
      rendered.set(key, bytes);
    }
    return reply.type(JSON_TYPE).send(bytes);
  };
}
