import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { VERSION } from '../version.js';
import { explainInvalid, explainNotFound } from './messages.js';

/** Exit codes scripts can test (also in `coffer --help`). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  unauthenticated: 3,
  forbidden: 4,
  notFound: 5,
  rejected: 6,
  unreachable: 7,
} as const;

/** An error the CLI reports as one line (`coffer: …`) and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
    /** The request field a refusal names (`body.variables[500].key`), when it names one. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface ApiResponse {
  status: number;
  contentType: string;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- callers know each route's shape
  json(): any;
}

export interface ApiClient {
  readonly url: string;
  readonly token: string | undefined;
  request(method: string, path: string, body?: unknown): Promise<ApiResponse>;
  /** A GET whose body is read as it arrives (exports, the change stream), for a successful answer. */
  stream(path: string, headers?: Record<string, string>): Promise<IncomingMessage>;
}

/** How long the CLI waits for the server, in seconds. */
export interface Timeouts {
  /** For the TCP connection to be accepted. */
  connect: number;
  /** For the answer once connected: the response to start, and then each further chunk of it. */
  response: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connect: 10, response: 30 };

let timeoutFlags: { timeout?: string; connectTimeout?: string } = {};

/** The global --timeout and --connect-timeout options, which win over COFFER_TIMEOUT and COFFER_CONNECT_TIMEOUT. */
export function useTimeoutFlags(flags: { timeout?: string; connectTimeout?: string }): void {
  timeoutFlags = flags;
}

/** From the global options, else COFFER_CONNECT_TIMEOUT and COFFER_TIMEOUT, else 10 s and 30 s. */
export function timeoutsFrom(flags: { timeout?: string; connectTimeout?: string }, env: NodeJS.ProcessEnv = process.env): Timeouts {
  const seconds = (flag: string | undefined, flagName: string, variable: string, fallback: number) => {
    const [raw, name] = flag !== undefined ? [flag, flagName] : [env[variable] || undefined, variable];
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !(value > 0) || value > 3600) {
      throw new CliError(`${name} must be a number of seconds greater than 0 and at most 3600 (got "${raw}")`, EXIT.usage);
    }
    return value;
  };
  return {
    connect: seconds(flags.connectTimeout, '--connect-timeout', 'COFFER_CONNECT_TIMEOUT', DEFAULT_TIMEOUTS.connect),
    response: seconds(flags.timeout, '--timeout', 'COFFER_TIMEOUT', DEFAULT_TIMEOUTS.response),
  };
}

/** The HTTP API at `url` with `token`; errors become CliErrors a person can act on. */
export function createApiClient(options: { url: string; token?: string; timeouts?: Timeouts }): ApiClient {
  const url = options.url.replace(/\/+$/, '');
  const timeouts = options.timeouts ?? timeoutsFrom(timeoutFlags);
  // A server that accepts and never answers must not hang the CLI: `coffer run --fallback`
  // can only take over once the request has failed, so every request fails in bounded time.
  const timedOut = (phase: 'connect' | 'response') =>
    new CliError(
      phase === 'connect'
        ? `The Coffer server at ${url} did not accept a connection within ${timeouts.connect} s (--connect-timeout, COFFER_CONNECT_TIMEOUT)`
        : `The Coffer server at ${url} did not answer within ${timeouts.response} s (--timeout, COFFER_TIMEOUT)`,
      EXIT.unreachable,
    );

  // node:http rather than fetch: fetch loads its HTTP stack on first use, ~100 ms that every
  // `coffer run` would pay before the command even starts.
  function send(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<IncomingMessage> {
    const target = new URL(`${url}/api/v1${path}`);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const transport = target.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      let response: IncomingMessage | undefined;
      // Destroying the response first makes a body being read fail with this error, not "aborted".
      const abort = (error: CliError) => {
        response?.destroy(error);
        request.destroy(error);
      };
      const request = transport.request(
        target,
        {
          method,
          headers: {
            'x-coffer-tool': 'CLI',
            'user-agent': `coffer-cli/${VERSION}`,
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
            ...extraHeaders,
          },
        },
        (received) => resolve((response = received)),
      );
      const connecting = setTimeout(() => abort(timedOut('connect')), timeouts.connect * 1000);
      request.on('socket', (socket) => {
        if (!socket.connecting) clearTimeout(connecting);
        else socket.once('connect', () => clearTimeout(connecting));
      });
      request.on('close', () => clearTimeout(connecting));
      // Applies once connected: the socket idle that long, before or during the response.
      request.setTimeout(timeouts.response * 1000, () => abort(timedOut('response')));
      request.on('error', (error: NodeJS.ErrnoException) =>
        reject(
          error instanceof CliError
            ? error
            : new CliError(`Cannot reach the Coffer server at ${url} (${error.code ?? error.message}); is it running? Set COFFER_URL to its address`, EXIT.unreachable),
        ),
      );
      request.end(payload);
    });
  }

  const read = async (response: IncomingMessage, method: string, path: string): Promise<ApiResponse> => {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of response) chunks.push(chunk as Buffer);
    } catch (error) {
      // A stalled server (the timeout's CliError) or a dropped connection.
      throw error instanceof CliError ? error : new CliError(`The connection to the Coffer server at ${url} broke off during the answer`, EXIT.unreachable);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const status = response.statusCode ?? 0;
    const contentType = String(response.headers['content-type'] ?? '');
    return {
      status,
      contentType,
      text,
      json: () => {
        try {
          return JSON.parse(text);
        } catch {
          throw notCoffer(url, method, path, status, contentType);
        }
      },
    };
  };

  const client: ApiClient = {
    url,
    token: options.token,
    async request(method, path, body) {
      const response = await send(method, path, body);
      const result = await read(response, method, path);
      // Coffer stamps every answer with its request id: a 200 without one is someone else's page.
      if (result.status < 400 && !response.headers['x-request-id']) throw notCoffer(url, method, path, result.status, result.contentType);
      if (result.status < 400) return result;
      throw await explain(client, result, { method, path, body });
    },
    async stream(path, headers) {
      const response = await send('GET', path, undefined, headers);
      if ((response.statusCode ?? 0) < 400 && !response.headers['x-request-id']) {
        response.resume();
        throw notCoffer(url, 'GET', path, response.statusCode ?? 0, String(response.headers['content-type'] ?? ''));
      }
      if ((response.statusCode ?? 0) < 400) return response;
      throw await explain(client, await read(response, 'GET', path), { method: 'GET', path });
    },
  };
  return client;
}

/** Something answered at COFFER_URL, but not as Coffer does (a web server, a proxy's page, another API). */
function notCoffer(url: string, method: string, path: string, status: number, contentType: string): CliError {
  return new CliError(
    `The server at ${url} is not a Coffer server, or not this version's: it answered ${method} /api/v1${path} with ${status}${contentType ? ` (${contentType.split(';')[0]})` : ''}. ` +
      'Set COFFER_URL to the address Coffer listens on (e.g. http://127.0.0.1:8080, without /api/v1)',
    EXIT.failure,
  );
}

interface ErrorBody {
  error?: { code?: string; message?: string; details?: Record<string, unknown>; request_id?: string };
}

/** The one place an API error becomes the sentence a person reads (see messages.ts). */
async function explain(client: ApiClient, response: ApiResponse, request: { method: string; path: string; body?: unknown }): Promise<CliError> {
  let error: ErrorBody['error'];
  try {
    error = (JSON.parse(response.text) as ErrorBody).error;
  } catch {
    // not JSON: below
  }
  if (!error?.code || !error.message || !error.request_id) return notCoffer(client.url, request.method, request.path, response.status, response.contentType);
  const { message, details } = error;
  switch (response.status) {
    case 401:
      return new CliError(unauthenticated(client, message, details), EXIT.unauthenticated);
    case 403:
      return new CliError(message, EXIT.forbidden);
    case 404:
      if (message.startsWith('No route ')) {
        return new CliError(`${message}: the server at ${client.url} does not know this request; is COFFER_URL its base address (without /api/v1), and is it as new as this CLI (${VERSION})?`, EXIT.notFound);
      }
      return new CliError(await explainNotFound(message, request.path, () => belongings(client)), EXIT.notFound);
    case 400:
    case 409:
    case 413:
    case 422: {
      const field = details?.field;
      const reason = details?.reason;
      const text = typeof field === 'string' && typeof reason === 'string' ? explainInvalid({ field, reason }, request) : message;
      return new CliError(text, EXIT.rejected, typeof field === 'string' ? field : undefined);
    }
    default:
      return new CliError(message, EXIT.failure);
  }
}

/** A refused credential: revoked or expired says so (the server tells only whoever holds the token); otherwise how to sign in. */
function unauthenticated(client: ApiClient, message: string, details: Record<string, unknown> | undefined): string {
  const apiToken = client.token?.startsWith('cfr_');
  if (apiToken && (details?.reason === 'revoked' || details?.reason === 'expired')) {
    return `${message}: ask an organization admin for a new token (coffer tokens create) and set COFFER_TOKEN to it`;
  }
  if (!client.token) return `${message}. Run coffer login, or set COFFER_TOKEN to an API token`;
  if (apiToken) return `The server at ${client.url} does not accept this API token (${message}); is it for this server? Run coffer login, or set COFFER_TOKEN to a valid API token`;
  return `Your session with ${client.url} has ended (${message}): run coffer login`;
}

/** "you belong to: a, b" for a person; "this token belongs to x" for a token. */
async function belongings(client: ApiClient): Promise<string> {
  if (client.token?.startsWith('cfr_')) {
    const { organization } = (await client.request('GET', '/token')).json() as { organization: { slug: string } };
    return `this token belongs to "${organization.slug}"`;
  }
  const { items } = (await client.request('GET', '/orgs?limit=200')).json() as { items: { slug: string }[] };
  return items.length === 0 ? 'you belong to no organization yet: coffer orgs create <slug>' : `you belong to: ${items.map((o) => o.slug).join(', ')}`;
}
