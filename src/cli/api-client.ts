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

/** The HTTP API at `url` with `token`; errors become CliErrors a person can act on. */
export function createApiClient(options: { url: string; token?: string }): ApiClient {
  const url = options.url.replace(/\/+$/, '');
  // node:http rather than fetch: fetch loads its HTTP stack on first use, ~100 ms that every
  // `coffer run` would pay before the command even starts.
  function send(method: string, path: string, body?: unknown): Promise<IncomingMessage> {
    const target = new URL(`${url}/api/v1${path}`);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const transport = target.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
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
        resolve,
      );
      request.on('error', (error: NodeJS.ErrnoException) =>
        reject(new CliError(`Cannot reach the Coffer server at ${url} (${error.code ?? error.message}); is it running? Set COFFER_URL to its address`, EXIT.unreachable)),
      );
      request.end(payload);
    });
  }

  const read = async (response: IncomingMessage): Promise<ApiResponse> => {
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
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
