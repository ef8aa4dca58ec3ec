import type { TestServer } from '../harness.js';
import { pathValue, type FuzzContext } from './context.js';
import { RAW_BODIES, RawJson, hostileJsonValues, hostileSegments, hostileStrings, toJson } from './hostile.js';
import type { Operation, Schema } from './operations.js';
import type { Random } from './random.js';

export type Principal = 'owner' | 'path-token' | 'wide-token' | 'anonymous' | 'garbage';

const PASSWORD = 'correct horse battery staple';

export interface BuiltRequest {
  url: string;
  payload?: string;
  contentType?: string;
  /** Other headers made hostile (request id, tool, cookies, forwarding, CSRF). */
  headers?: Record<string, string>;
  principal: Principal;
  /** What was made hostile, for the report. */
  mutation: string;
}

type Mutation = 'none' | 'path' | 'query' | 'unknown-query' | 'body-field' | 'body-extra' | 'body-whole' | 'content-type' | 'header';

/** Header values a real HTTP client can send: visible ASCII and Latin-1 bytes, no NUL or newline. */
const HOSTILE_HEADERS: Record<string, string[]> = {
  'x-request-id': ['', 'x'.repeat(8_000), "'; drop table audit_events; --", '../../etc', '%00', 'ÿþ', '00000000-0000-0000-0000-000000000000'],
  'x-coffer-tool': ['', 'cli', 'CLI ', 'x'.repeat(5_000), 'ÿ', '__proto__'],
  'user-agent': ['x'.repeat(8_000), 'ÿÿÿ', ''],
  'x-forwarded-for': ['not-an-ip', '999.999.999.999', '::ffff:1.2.3.4, evil', 'x'.repeat(5_000), ''],
  'x-csrf-token': ['', 'x'.repeat(5_000), 'ÿ'],
  cookie: ['coffer_session=', `coffer_session=${'x'.repeat(5_000)}`, 'coffer_session=%00', 'coffer_session=ÿ; coffer_session=x', '=;=;'],
  accept: ['application/x-ndjson;q=ÿ', '*/*;q=-1', 'x'.repeat(5_000)],
};

/** Builds one request per call: the valid request for an operation, then one part of it made hostile. */
export class RequestBuilder {
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
      if (!operation.destructive) mutations.push('unknown-query', 'none', 'header');
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
    let headers: Record<string, string> | undefined;
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
      case 'header': {
        const name = random.pick(Object.keys(HOSTILE_HEADERS));
        headers = { [name]: random.pick(HOSTILE_HEADERS[name]!) };
        description = `header:${name}`;
        break;
      }
      case 'none':
        break;
    }

    if (payload === undefined && body !== undefined) {
      payload = toJson(body);
      contentType ??= 'application/json';
    }
    if (contentType !== undefined && /[^\t\x20-\x7e]/.test(contentType)) contentType = contentType.replace(/[^\t\x20-\x7e]/g, '');

    const url = operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => pathValues.get(name) ?? 'fuzz') + (query.length ? `?${query.map(([k, v]) => `${k}=${v}`).join('&')}` : '');
    return { url, payload, contentType, headers, principal, mutation: description };
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
      case 'token_id':
      case 'cluster_id':
      case 'role_id':
        // The same ids the paths name.
        return pathValue(context, name, operation.path);
      case 'project_id':
        return context.projectId;
      case 'environment_id':
        return context.environmentId;
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
