import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

export type { paths };

/** The error body of every API refusal (SPEC §7). */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown>; request_id?: string };
}

/** An API refusal, carrying the server's own message (which names the field or the action). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The CSRF token the server set at sign-in, in the one cookie the console's script may read. */
function csrfToken(): string | undefined {
  const entry = document.cookie.split('; ').find((part) => part.startsWith('coffer_csrf='));
  return entry ? decodeURIComponent(entry.slice('coffer_csrf='.length)) : undefined;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

// The session rides in the HttpOnly cookie; state-changing requests echo the CSRF token (SPEC §7).
const session: Middleware = {
  onRequest({ request }) {
    request.headers.set('x-coffer-tool', 'CONSOLE');
    const token = csrfToken();
    if (!SAFE.has(request.method) && token) request.headers.set('x-csrf-token', token);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(session);

/** The data of an openapi-fetch answer, or its refusal as an ApiError (for TanStack Query). */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok) return result.data as T;
  const body = result.error as Partial<ApiErrorBody> | undefined;
  throw new ApiError(result.response.status, body?.error?.code ?? 'HTTP_ERROR', body?.error?.message ?? `The server answered ${result.response.status}`);
}
