import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_STATUS, type ErrorCode } from '../errors.js';
import { driverErrorToAppError, isRefusedValue } from '../db/errors.js';

/** The body of every error response (SPEC §7). */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown>; request_id: string };
}

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  propertyName?: string;
}

/**
 * One error handler for the whole API: domain errors keep their code, Fastify's
 * parsing/validation errors become 400/413/415 naming the field, and anything else is
 * a 500 that carries the request id and nothing about the internals.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error);
    if (appError.status >= 500) {
      request.log.error({ err: error }, 'unhandled error');
    } else if (isRefusedValue(error)) {
      // Validation let through a value the database refused: a gap to close. The code and
      // route only; the driver's message quotes the value, which may be a secret.
      request.log.warn({ sqlstate: error.code, route: request.routeOptions.url }, 'the database refused a value validation accepted');
    }
    return sendError(request, reply, appError);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      new AppError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}; see /api/v1/openapi.json`),
    ),
  );
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  const body: ErrorBody = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details ? { details: error.details } : {}),
      request_id: request.id,
    },
  };
  if (error.headers) reply.headers(error.headers);
  return reply.code(error.status).type('application/json').send(body);
}

export function toAppError(error: FastifyError): AppError {
  if (error instanceof AppError) return error;

  if (error.validation) {
    const part = error.validationContext === 'querystring' ? 'query' : (error.validationContext ?? 'body');
    return validationError(part, error.validation);
  }
  // The last line of defence for bad input: never a 500 for a value the database refused.
  const driverError = driverErrorToAppError(error);
  if (driverError) return driverError;

  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('MALFORMED_JSON', 'The request body is not valid JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('MALFORMED_JSON', 'The request body is empty but Content-Type is application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'The request body is larger than this endpoint accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send JSON with Content-Type: application/json');
  }

  // Other client errors raised by Fastify or its plugins (bad content-length, etc.).
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = (Object.keys(ERROR_STATUS) as ErrorCode[]).find((c) => ERROR_STATUS[c] === status) ?? 'BAD_REQUEST';
    return new AppError(code, error.message);
  }
  return new AppError('INTERNAL', 'Internal error; quote the request id when reporting it');
}

/** A 400 naming the first field ajv refused in `part` (params, query or body). */
export function validationError(part: string, issues: readonly unknown[] | null | undefined): AppError {
  const { field, reason } = describeIssue(part, issues?.[0] as AjvIssue | undefined);
  return new AppError('VALIDATION_FAILED', `${field}: ${reason}`, { field, reason });
}

/** Format failures in words a client can act on (see useStrictFormats in schemas.ts). */
const FORMAT_REASONS: Record<string, string> = {
  'date-time': 'must be an RFC 3339 date-time with an offset, such as 2025-05-01T12:00:00Z (no leap second; years 0001-9999)',
  uuid: 'must be a UUID: 32 hex digits grouped 8-4-4-4-12',
  email: 'must be an email address',
};

function describeIssue(part: string, issue: AjvIssue | undefined): { field: string; reason: string } {
  if (!issue) return { field: part, reason: 'is invalid' };
  // /cluster_permissions/0/permission → cluster_permissions[0].permission
  const path = issue.instancePath
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment, index) => (/^\d+$/.test(segment) ? `[${segment}]` : index === 0 ? segment : `.${segment}`))
    .join('');
  // A bad key of a map (propertyNames) is named itself, not its parent object.
  const name = issue.propertyName ?? issue.params.propertyName;
  const key = typeof name === 'string' ? `.${name}` : '';
  const base = (path ? `${part}.${path}` : part) + key;
  switch (issue.keyword) {
    case 'required':
      return { field: `${base}.${String(issue.params.missingProperty)}`.replace(/^\./, ''), reason: 'is required' };
    case 'additionalProperties':
      return { field: `${base}.${String(issue.params.additionalProperty)}`, reason: 'is not a known field' };
    case 'pattern':
      return { field: base, reason: `must match ${String(issue.params.pattern)}` };
    case 'enum':
      return { field: base, reason: `must be one of ${(issue.params.allowedValues as unknown[]).join(', ')}` };
    case 'format':
      return { field: base, reason: FORMAT_REASONS[String(issue.params.format)] ?? issue.message ?? 'is invalid' };
    default:
      return { field: base, reason: issue.message ?? 'is invalid' };
  }
}
