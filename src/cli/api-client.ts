import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { VERSION } from '../version.js';

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
  /** A GET whose body is read as it arrives (exports), for a successful answer. */
  stream(path: string): Promise<IncomingMessage>;
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
  function send(method: string, path: string, body?: unknown): Promise<IncomingMessage> {
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

  const read = async (response: IncomingMessage): Promise<ApiResponse> => {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of response) chunks.push(chunk as Buffer);
    } catch (error) {
      // A stalled server (the timeout's CliError) or a dropped connection.
      throw error instanceof CliError ? error : new CliError(`The connection to the Coffer server at ${url} broke off during the answer`, EXIT.unreachable);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    return { status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), text, json: () => JSON.parse(text) };
  };

  return {
    url,
    token: options.token,
    async request(method, path, body) {
      const result = await read(await send(method, path, body));
      if (result.status < 400) return result;
      throw errorOf(result, method, path);
    },
    async stream(path) {
      const response = await send('GET', path);
      if ((response.statusCode ?? 0) < 400) return response;
      throw errorOf(await read(response), 'GET', path);
    },
  };
}

function errorOf(response: ApiResponse, method: string, path: string): CliError {
  let message = `${method} ${path} answered ${response.status}`;
  try {
    const body = response.json() as { error?: { message?: string } };
    if (body.error?.message) message = body.error.message;
  } catch {
    // not JSON: keep the status line
  }
  switch (response.status) {
    case 401:
      return new CliError(`${message}. Run coffer login, or set COFFER_TOKEN to an API token`, EXIT.unauthenticated);
    case 403:
      return new CliError(message, EXIT.forbidden);
    case 404:
      return new CliError(message, EXIT.notFound);
    case 400:
    case 409:
    case 413:
    case 422:
      return new CliError(message, EXIT.rejected);
    default:
      return new CliError(message, EXIT.failure);
  }
}
