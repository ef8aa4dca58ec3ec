import { Writable } from 'node:stream';
import pino from 'pino';
import type { TestServer } from '../harness.js';
import { contextHealthy, createContext, pathValue, type FuzzContext } from './context.js';
import { RAW_BODIES, RawJson, hostileJsonValues, hostileSegments, hostileStrings, toJson } from './hostile.js';
import { operationsOf, schemaResolver, type Operation, type Schema } from './operations.js';
import { Random } from './random.js';

type Principal = 'owner' | 'path-token' | 'wide-token' | 'anonymous' | 'garbage';

export interface FuzzFailure {
  status: number;
  method: string;
  operation: string;
  url: string;
  principal: Principal;
  mutation: string;
  payload?: string;
  response: string;
  /** What the server logged for the request (error code and message), when it logged anything. */
  cause?: string;
}

export interface FuzzSummary {
  backend: string;
  seed: number;
  requests: number;
  operations: number;
  statuses: Record<string, number>;
  failures: number;
  byCause: Record<string, number>;
  /** The first failures in full, to replay. */
  examples: FuzzFailure[];
  /** Times the context was rebuilt because a request changed it (a valid-looking hostile value). */
  rebuilds: number;
  milliseconds: number;
}

const PASSWORD = 'correct horse battery staple';
const MAX_EXAMPLES = 50;

/** A logger that keeps what the server says about each request at warn and above, by request id. */
export function capturingLogger() {
  const byRequest = new Map<string, string>();
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          const entry = JSON.parse(line) as { reqId?: string; msg?: string; err?: { code?: string; message?: string; type?: string } };
          if (!entry.reqId) continue;
          const err = entry.err ? ` ${entry.err.type ?? ''} ${entry.err.code ?? ''} ${entry.err.message ?? ''}` : '';
          byRequest.set(entry.reqId, `${entry.msg ?? ''}${err}`.replace(/\s+/g, ' ').trim().slice(0, 300));
        } catch {
          // not JSON: ignore
        }
      }
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), causeOf: (id: string) => byRequest.get(id) };
}

/**
 * Sends `requests` hostile requests built from the server's own OpenAPI document, every
 * operation in turn, as the owner, as API tokens and anonymously, and counts what came back.
 */
export async function fuzz(server: TestServer, options: { requests: number; seed: number; backend: string; causeOf?: (requestId: string) => string | undefined }): Promise<FuzzSummary> {
  const started = performance.now();
  const random = new Random(options.seed);
  const documentResponse = await server.expect(200, 'GET', '/openapi.json');
  const document = documentResponse.body;
  const operations = operationsOf(document);
  const resolve = schemaResolver(document);
  let context = await createContext(server);
  const summary: FuzzSummary = {
    backend: options.backend,
    seed: options.seed,
    requests: 0,
    operations: operations.length,
    statuses: {},
    failures: 0,
    byCause: {},
    examples: [],
    rebuilds: 0,
    milliseconds: 0,
  };

  const builder = new RequestBuilder(random, resolve, () => context, server);
  for (let i = 0; i < options.requests; i++) {
    const operation = operations[i % operations.length]!;
    const request = builder.build(operation);
    const headers: Record<string, string> = {};
    const credential = credentialOf(context, request.principal, random);
    if (credential) headers.authorization = credential;
    if (request.contentType) headers['content-type'] = request.contentType;
    let status: number;
    let body = '';
    let requestId = '';
    try {
      const raw = await server.app.inject({ method: operation.method as 'GET', url: `/api/v1${request.url}`, headers, payload: request.payload });
      status = raw.statusCode;
      body = raw.body.slice(0, 500);
      requestId = String(raw.headers['x-request-id'] ?? '');
    } catch (error) {
      // The in-process client refused to build the request (an invalid header); not the server's doing.
      status = -1;
      body = String(error);
    }
    summary.requests++;
    summary.statuses[status] = (summary.statuses[status] ?? 0) + 1;
    if (status >= 500) {
      summary.failures++;
      const cause = requestId ? options.causeOf?.(requestId) : undefined;
      const key = `${request.mutation.replace(/\.\d+(?=\.|$)/g, '[]')} → ${causeKey(cause ?? body)}`;
      summary.byCause[key] = (summary.byCause[key] ?? 0) + 1;
      if (summary.examples.length < MAX_EXAMPLES) {
        summary.examples.push({
          status,
          method: operation.method,
          operation: operation.path,
          url: request.url.slice(0, 300),
          principal: request.principal,
          mutation: request.mutation,
          payload: request.payload?.slice(0, 300),
          response: body,
          cause,
        });
      }
    }
    // A request that succeeded against something the fuzzer stands on, or a periodic check.
    if ((operation.destructive && status < 400) || operation.method !== 'GET' && i % 50 === 0) {
      if (!(await contextHealthy(server, context))) {
        context = await createContext(server);
        summary.rebuilds++;
      }
    }
  }
  summary.milliseconds = Math.round(performance.now() - started);
  return summary;
}

/** Groups failures by what went wrong, without the values that made it go wrong. */
function causeKey(text: string): string {
  return text.replace(/"[^"]*"/g, '"…"').replace(/[0-9a-f-]{36}/g, '<uuid>').slice(0, 160);
}

function credentialOf(context: FuzzContext, principal: Principal, random: Random): string | undefined {
  switch (principal) {
    case 'owner':
      return `Bearer ${context.owner.token}`;
    case 'path-token':
      return `Bearer ${context.pathToken.token}`;
    case 'wide-token':
      return `Bearer ${context.wideToken.token}`;
    case 'garbage':
      return random.pick([
        'Bearer ', 'Bearer cfr_', `Bearer cfr_${'A'.repeat(5_000)}`, `Bearer ${'x'.repeat(10_000)}`, 'Token cfr_abc.def', 'Basic Zm9vOmJhcg==',
        `Bearer ${context.pathToken.token}x`, `Bearer ${context.owner.token.slice(0, -1)}`, 'Bearer %00', 'bearer', `Bearer ${context.pathToken.token.toUpperCase()}`,
      ]);
    default:
      return undefined;
  }
}

interface BuiltRequest {
  url: string;
  payload?: string;
  contentType?: string;
  principal: Principal;
  /** What was made hostile, for the report. */
  mutation: string;
}

type Mutation = 'none' | 'path' | 'query' | 'unknown-query' | 'body-field' | 'body-extra' | 'body-whole' | 'content-type';

class RequestBuilder {
  private counter = 0;
  private readonly strings: Record<string, string[]>;

  constructor(
    private readonly random: Random,
    private readonly resolve: (schema: Schema | undefined) => Schema,
    private readonly context: () => FuzzContext,
    private readonly server: TestServer,
  ) {
    this.strings = hostileStrings();
  }

  build(operation: Operation): BuiltRequest {
    const random = this.random;
    const context = this.context();
    const principal = random.pick<Principal>(['owner', 'owner', 'owner', 'owner', 'path-token', 'wide-token', 'wide-token', 'anonymous', 'garbage']);

    const mutations: Mutation[] = [];
    if (operation.pathParams.length > 0) mutations.push('path', 'path');
    if (operation.method !== 'DELETE') {
      if (operation.queryParams.length > 0) mutations.push('query', 'query', 'query');
      if (operation.body) mutations.push('body-field', 'body-field', 'body-field', 'body-field', 'body-extra', 'body-whole', 'content-type');
      if (!operation.destructive) mutations.push('unknown-query', 'none');
      if (!operation.body && !operation.destructive) mutations.push('body-whole');
    }
    // Nothing to aim at without acting for real (POST /auth/logout): a hostile body or query it ignores.
    if (mutations.length === 0) mutations.push('body-whole', 'unknown-query');
    const mutation = random.pick(mutations);

    // The valid request first, then one part of it made hostile.
    const pathValues = new Map(operation.pathParams.map((p) => [p.name, encodeURIComponent(pathValue(context, p.name, operation.path) ?? 'fuzz')]));
    const query: [string, string][] = [];
    for (const param of operation.queryParams) {
      if (random.chance(0.3)) query.push([param.name, encodeLoose(String(this.valueFor(param.schema, param.name, operation)))]);
    }
    let body: unknown = operation.body ? this.valueFor(operation.body, '', operation) : undefined;
    let payload: string | undefined;
    let contentType: string | undefined;
    let description: string = mutation;

    switch (mutation) {
      case 'path': {
        const param = random.pick(operation.pathParams);
        const value = random.chance(0.5) ? random.pick(hostileSegments(random, { uuid: context.member.id })) : encodeLoose(this.hostileString(param.schema, param.name));
        pathValues.set(param.name, value === '' ? '%20' : value);
        description = `path:${param.name}`;
        break;
      }
      case 'query': {
        const param = random.pick(operation.queryParams);
        const filtered = query.filter(([name]) => name !== param.name);
        if (random.chance(0.1)) filtered.push([param.name, 'a'], [param.name, 'b']);
        else filtered.push([param.name, random.chance(0.2) ? random.pick(['%00', '%ed%a0%80', '%ZZ', '%', '%ff']) : encodeLoose(this.hostileString(param.schema, param.name))]);
        query.splice(0, query.length, ...filtered);
        description = `query:${param.name}`;
        break;
      }
      case 'unknown-query':
        query.push([random.pick(['__proto__', 'constructor', 'x', 'limit[]', 'cursor[a]', '\u0000', 'a'.repeat(2_000)]).replace('\u0000', '%00'), encodeLoose(this.hostileString())]);
        break;
      case 'body-field': {
        const paths = leafPaths(body);
        if (paths.length === 0) {
          body = this.hostileValue();
          description = 'body-field:(whole)';
          break;
        }
        const target = random.pick(paths);
        const field = schemaAt(this.resolve, operation.body, target);
        body = replaceAt(body, target, this.hostileValue(field, String(target.at(-1))));
        description = `body-field:${target.join('.')}`;
        break;
      }
      case 'body-extra': {
        const paths = [[], ...objectPaths(body)];
        const target = random.pick(paths);
        const name = random.pick(['unknown', '__proto__', 'constructor', '', '\u0000', '\ud800', 'a'.repeat(1_000), 'id', 'organization_id', 'owner', 'role']);
        body = addAt(body, target, name, this.hostileValue());
        description = `body-extra:${target.join('.')}`;
        break;
      }
      case 'body-whole':
        if (random.chance(0.5)) {
          payload = random.pick(RAW_BODIES);
          contentType = 'application/json';
        } else body = random.pick([...hostileJsonValues(random), this.hostileString()]);
        break;
      case 'content-type':
        contentType = random.pick(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/json\u0000', 'multipart/form-data; boundary=x', '']);
        break;
      case 'none':
        break;
    }

    if (payload === undefined && body !== undefined) {
      payload = toJson(body);
      contentType ??= 'application/json';
    }
    if (contentType !== undefined && /[^\t\x20-\x7e]/.test(contentType)) contentType = contentType.replace(/[^\t\x20-\x7e]/g, '');

    const url = operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => pathValues.get(name) ?? 'fuzz') + (query.length ? `?${query.map(([k, v]) => `${k}=${v}`).join('&')}` : '');
    return { url, payload, contentType, principal, mutation: description };
  }

  /** A hostile string, half the time of the kind the field expects (times for a date-time, uuids for an id…). */
  private hostileString(schema: Schema = {}, name = ''): string {
    const kind = this.kindOf(schema, name);
    if (kind && this.random.chance(0.5)) return this.random.pick(this.strings[kind]!);
    const kinds = Object.keys(this.strings);
    return this.random.pick(this.strings[this.random.pick(kinds)]!);
  }

  private hostileValue(schema: Schema = {}, name = ''): unknown {
    const resolved = this.resolve(schema);
    if ((resolved.type === 'integer' || resolved.type === 'number') && this.random.chance(0.5)) {
      return this.random.pick([new RawJson('1e309'), new RawJson('-1e309'), -1, 0, 1.5, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), new RawJson('1e400'), '1']);
    }
    return this.random.chance(0.6) ? this.hostileString(resolved, name) : this.random.pick(hostileJsonValues(this.random));
  }

  private kindOf(input: Schema, name: string): string | undefined {
    const schema = this.resolve(input);
    if (schema.format === 'date-time' || /^(from|to|expires_at|since|until)$/.test(name)) return 'time';
    if (schema.format === 'uuid' || /(^id$|_id$|^member$)/.test(name)) return 'uuid';
    if (schema.type === 'integer' || schema.type === 'number') return 'number';
    if (name === 'cursor') return 'cursor';
    return undefined;
  }

  /** A valid value for `schema`, realistic where the field's name says what it is. */
  valueFor(input: Schema | undefined, name: string, operation: Operation, depth = 0): unknown {
    const schema = this.resolve(input);
    const context = this.context();
    const random = this.random;
    if (depth > 6) return undefined;
    const options = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
    if (options) {
      const usable = options.filter((o) => this.resolve(o).type !== 'null');
      return this.valueFor(random.pick(usable.length ? usable : options), name, operation, depth);
    }
    if (Array.isArray(schema.enum)) return random.pick(schema.enum);
    if ('const' in schema) return schema.const;
    if (schema.default !== undefined && random.chance(0.3)) return schema.default;
    const named = this.named(name, operation, context);
    if (named !== undefined && (schema.type === 'string' || schema.type === undefined)) return named;
    switch (schema.type) {
      case 'object': {
        const result: Record<string, unknown> = {};
        const required = new Set((schema.required as string[] | undefined) ?? []);
        for (const [key, property] of Object.entries((schema.properties as Record<string, Schema> | undefined) ?? {})) {
          if (required.has(key) || random.chance(0.6)) {
            const value = this.valueFor(property, key, operation, depth + 1);
            if (value !== undefined) result[key] = value;
          }
        }
        const pattern = schema.patternProperties as Record<string, Schema> | undefined;
        const additional = schema.additionalProperties;
        const valueSchema = pattern ? Object.values(pattern)[0] : typeof additional === 'object' ? (additional as Schema) : undefined;
        if (valueSchema && random.chance(0.7)) result[random.pick(['url', 'host', 'note', 'password', 'PORT'])] = this.valueFor(valueSchema, 'value', operation, depth + 1) ?? 'fuzz';
        return result;
      }
      case 'array': {
        const count = Math.max(Number(schema.minItems ?? 0), random.chance(0.7) ? 1 : 0);
        return Array.from({ length: count }, () => this.valueFor(schema.items as Schema, name, operation, depth + 1)).filter((v) => v !== undefined);
      }
      case 'integer':
      case 'number': {
        const minimum = Number(schema.minimum ?? 1);
        const maximum = Number(schema.maximum ?? minimum + 10);
        return Math.min(maximum, minimum + random.int(3));
      }
      case 'boolean':
        return random.chance(0.5);
      case 'string':
        return this.stringFor(schema, context);
      default:
        return 'fuzz';
    }
  }

  private stringFor(schema: Schema, context: FuzzContext): string {
    if (schema.format === 'uuid') return context.member.id;
    if (schema.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
    if (schema.format === 'email') return this.server.email('fuzz');
    if (schema.pattern === '^[a-z0-9][a-z0-9-]{0,62}$') return `fz-${++this.counter}`;
    if (typeof schema.pattern === 'string' && schema.pattern.startsWith('^[A-Z]')) return 'FUZZ_EVENT';
    if (typeof schema.pattern === 'string' && schema.pattern.startsWith('^[a-z]')) return 'fuzz';
    const min = Number(schema.minLength ?? 1);
    return 'fuzz'.padEnd(Math.max(min, 4), 'z');
  }

  /** Realistic values by field name: ids of the context's things, keys, paths, scopes. */
  private named(name: string, operation: Operation, context: FuzzContext): unknown {
    switch (name) {
      case 'email':
        return operation.path === '/auth/login' && this.random.chance(0.3) ? context.owner.email : this.server.email('fuzz');
      case 'password':
        return PASSWORD;
      case 'slug':
        // Renaming the org or project the fuzzer stands on would pull the ground from under it.
        if (operation.method === 'PATCH') return pathValue(context, operation.pathParams.at(-1)?.name ?? 'org', operation.path);
        return `fz-${++this.counter}`;
      case 'key':
        return `FUZZ_K${++this.counter}`;
      case 'value':
        return 's3cr3t-value-for-tests';
      case 'user_id':
        return context.member.id;
      case 'token_id':
        return context.pathToken.id;
      case 'cluster_id':
        return context.clusterId;
      case 'project_id':
        return context.projectId;
      case 'environment_id':
        return context.environmentId;
      case 'role_id':
        return context.roleId;
      case 'path':
      case 'resource':
        return 'shop/production';
      case 'action':
        return 'secret:read';
      case 'mount_path':
        return '/etc/fuzz/file.txt';
      case 'expires_at':
        return new Date(Date.now() + 86_400_000).toISOString();
      case 'cursor':
        return undefined;
      default:
        return undefined;
    }
  }
}

/** encodeURIComponent, except that lone surrogates go out as the WTF-8 bytes a client could send. */
export function encodeLoose(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += encodeURIComponent(text.slice(i, i + 2));
      i++;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`;
    } else out += encodeURIComponent(text[i]!);
  }
  return out;
}

type Path = (string | number)[];

/** The schema of the field at `path` of a body, as far as the document says. */
function schemaAt(resolve: (schema: Schema | undefined) => Schema, root: Schema | undefined, path: Path): Schema {
  let schema = resolve(root);
  for (const step of path) {
    const options = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
    if (options) schema = resolve(options.map(resolve).find((o) => o.type !== 'null') ?? {});
    if (typeof step === 'number') schema = resolve(schema.items as Schema | undefined);
    else {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const pattern = schema.patternProperties as Record<string, Schema> | undefined;
      schema = resolve(properties[step] ?? (pattern ? Object.values(pattern)[0] : typeof schema.additionalProperties === 'object' ? (schema.additionalProperties as Schema) : {}));
    }
  }
  return schema;
}

function leafPaths(value: unknown, prefix: Path = []): Path[] {
  if (value instanceof RawJson || value === null || typeof value !== 'object') return prefix.length ? [prefix] : [];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  const inner = entries.flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
  return prefix.length ? [prefix, ...inner] : inner;
}

function objectPaths(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object' || value instanceof RawJson) return [];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  const own = Array.isArray(value) || prefix.length === 0 ? [] : [prefix];
  return [...own, ...entries.flatMap(([k, v]) => objectPaths(v, [...prefix, k]))];
}

function replaceAt(value: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...(value as unknown[])] : { ...(value as object) }) as Record<string | number, unknown>;
  copy[head!] = replaceAt(copy[head!], rest, replacement);
  return copy;
}

function addAt(value: unknown, path: Path, name: string, added: unknown): unknown {
  if (path.length === 0) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const copy: Record<string, unknown> = { ...(value as object) };
    Object.defineProperty(copy, name, { value: added, enumerable: true, writable: true, configurable: true });
    return copy;
  }
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...(value as unknown[])] : { ...(value as object) }) as Record<string | number, unknown>;
  copy[head!] = addAt(copy[head!], rest, name, added);
  return copy;
}
