import { Type, type TSchema } from 'typebox';

/**
 * Canonical UUIDs only: ajv's uuid format also accepts `urn:uuid:…`, which PostgreSQL refuses.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|([+-])(\d{2}):(\d{2}))$/i;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const EARLIEST = Date.parse('0001-01-01T00:00:00Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * RFC 3339 date-times that JavaScript and PostgreSQL read as the same instant: no leap
 * second (`23:59:60`, which ajv accepts and Date does not), an offset always, at most
 * nanoseconds, and a UTC instant in years 0001-9999.
 */
export function isDateTime(text: string): boolean {
  const match = DATE_TIME.exec(text);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  if (days === undefined || day < 1 || day > days || hour > 23 || minute > 59 || second > 59) return false;
  if (match[7] !== undefined && (Number(match[8]) > 23 || Number(match[9]) > 59)) return false;
  // Services read it with new Date(text): what that reads is what counts.
  const instant = Date.parse(text);
  return Number.isFinite(instant) && instant >= EARLIEST && instant <= LATEST;
}

/** Replaces ajv-formats' lenient uuid and date-time (pass as the ajv `onCreate` option). */
export function useStrictFormats(ajv: { addFormat(name: string, format: RegExp | ((text: string) => boolean)): unknown }): void {
  ajv.addFormat('uuid', UUID);
  ajv.addFormat('date-time', isDateTime);
}

/** Schemas every module shares; a module's own live in its schemas.ts. */
export const SLUG_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';

export const Slug = Type.String({
  pattern: SLUG_PATTERN,
  description: 'Lower-case letters, digits and dashes; starts with a letter or digit; at most 63 characters',
});
export const Uuid = Type.String({ format: 'uuid' });
export const Timestamp = Type.String({ format: 'date-time', description: 'ISO-8601, UTC' });
export const Name = Type.String({ minLength: 1, maxLength: 200 });

/** The path parameters of the resource hierarchy, declared once for every module's routes. */
export const OrgParams = Type.Object({ org: Slug });
export const ProjectParams = Type.Object({ org: Slug, project: Slug });
export const EnvironmentParams = Type.Object({ org: Slug, project: Slug, env: Slug });
export const ServiceParams = Type.Object({ org: Slug, project: Slug, env: Slug, service: Slug });

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      request_id: Type.String(),
    }),
  },
  { $id: 'Error' },
);

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'next_cursor of the previous page' })),
});

/** A page of `item`s; `next_cursor` is null on the last page. */
export function Page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });
}

/** Standard error responses, listed on every route so the OpenAPI document shows them. */
export const errorResponses = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  413: ErrorResponse,
  429: ErrorResponse,
};

/**
 * A 204 route's answer: waits for the action (a refusal is thrown on, as from the handler),
 * then sends 204 with no body (the handler's promise then settles with nothing more to send).
 */
export async function noContent(reply: { code(status: 204): { send(payload: null): unknown } }, action: Promise<unknown>): Promise<void> {
  await action;
  reply.code(204).send(null);
}
