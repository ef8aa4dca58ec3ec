/** The operations of the server's OpenAPI document, as the fuzzer needs them. */
export type Schema = Record<string, unknown>;

export interface Operation {
  method: string;
  /** The OpenAPI path without the /api/v1 prefix, e.g. /orgs/{org}/tokens/{token_id}. */
  path: string;
  pathParams: { name: string; schema: Schema }[];
  queryParams: { name: string; schema: Schema }[];
  body: Schema | undefined;
  /** A valid request would change what the fuzzer stands on: only ever sent with a hostile path. */
  destructive: boolean;
}

interface OpenApiParameter {
  in: string;
  name: string;
  schema?: Schema;
}

interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, unknown> }>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const PREFIX = '/api/v1';

export function operationsOf(document: { paths: Record<string, Record<string, OpenApiOperation>>; components?: { schemas?: Record<string, Schema> } }): Operation[] {
  const components = document.components?.schemas ?? {};
  const resolve = (schema: Schema | undefined): Schema | undefined => {
    const ref = schema?.$ref;
    if (typeof ref === 'string') return resolve(components[ref.replace('#/components/schemas/', '')]);
    return schema;
  };
  const operations: Operation[] = [];
  for (const [fullPath, item] of Object.entries(document.paths)) {
    if (!fullPath.startsWith(PREFIX)) continue;
    const path = fullPath.slice(PREFIX.length);
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      // A Server-Sent Events stream answers 200 and never ends: its own tests drive it (changes.api.test.ts).
      if (operation.responses?.['200']?.content?.['text/event-stream']) continue;
      const parameters = operation.parameters ?? [];
      const upper = method.toUpperCase();
      operations.push({
        method: upper,
        path,
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => ({ name: p.name, schema: resolve(p.schema) ?? {} })),
        queryParams: parameters.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: resolve(p.schema) ?? {} })),
        body: resolve(operation.requestBody?.content?.['application/json']?.schema),
        destructive: upper === 'DELETE' || /\/(transfer-ownership|logout|accept|purge)$/.test(path),
      });
    }
  }
  return operations;
}

/** Resolves $ref against the document's components, for walking nested schemas. */
export function schemaResolver(document: { components?: { schemas?: Record<string, Schema> } }) {
  const components = document.components?.schemas ?? {};
  return function resolve(schema: Schema | undefined): Schema {
    const ref = schema?.$ref;
    if (typeof ref === 'string') return resolve(components[ref.replace('#/components/schemas/', '')]);
    return schema ?? {};
  };
}
