import { Writable } from 'node:stream';
import pino from 'pino';
import type { TestServer } from '../harness.js';
import { contextHealthy, createContext, type FuzzContext } from './context.js';
import { operationsOf, schemaResolver } from './operations.js';
import { Random } from './random.js';
import { RequestBuilder, type Principal } from './requests.js';

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
  /** Requests the in-process client would not send (an invalid header), status -1: the first few. */
  unsent: string[];
  /** Times the context was rebuilt because a request changed it (a valid-looking hostile value). */
  rebuilds: number;
  milliseconds: number;
}

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
    unsent: [],
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
    Object.assign(headers, request.headers);
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
      if (summary.unsent.length < 5) summary.unsent.push(`${operation.method} ${request.url.slice(0, 200)} (${request.mutation}): ${body.slice(0, 200)}`);
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
