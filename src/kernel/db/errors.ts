import { AppError } from '../errors.js';

/** PostgreSQL error classification shared by every repo (pg and PGlite both expose `code` and `constraint`). */
interface PgError {
  code?: string;
  constraint?: string;
}

/** What a service answers when a named constraint refuses its write, by constraint name. */
export type ConstraintErrors = Readonly<Record<string, () => AppError>>;

/**
 * What a service throws from its catch: a violation of a constraint named in `errors` (each
 * repo exports its constraint names) becomes that AppError; anything else comes back
 * unchanged for the error handler, which still answers a 4xx for any constraint it can name.
 */
export function translateConstraint(error: unknown, errors: ConstraintErrors): unknown {
  const constraint = isIntegrityViolation(error) ? (error as PgError).constraint : undefined;
  const translate = constraint === undefined ? undefined : errors[constraint];
  return translate ? translate() : error;
}

/** SQLSTATE class 23 (integrity constraint violation): unique, foreign key, check, not null, exclusion. */
export function isIntegrityViolation(error: unknown): boolean {
  const code = (error as PgError | null)?.code;
  return typeof code === 'string' && /^23[0-9A-Z]{3}$/.test(code);
}

/**
 * The last line of defence for a driver error no service named: every SQLSTATE class a
 * client's input can cause becomes a 4xx, so none of them is a 500. Undefined for any
 * other error (a real fault, which stays a 500).
 */
export function driverErrorToAppError(error: unknown): AppError | undefined {
  const code = (error as PgError | null)?.code;
  if (typeof code !== 'string') return undefined;
  switch (code) {
    case '23505':
      return new AppError('CONFLICT', 'The request conflicts with an existing resource');
    // A concurrent change won (a reference removed at commit, a serialization failure): retryable.
    case '23503':
    case '40001':
    case '40P01':
      return new AppError('CONFLICT', 'A concurrent change conflicted with this request; retry it');
    case '23502':
    case '23514':
    case '23P01':
      return new AppError('BAD_REQUEST', 'A value in the request breaks a rule of the stored data (the server logged which check missed it)');
  }
  if (isDataException(error)) {
    return new AppError('BAD_REQUEST', 'A value in the request is not one the database can store or compare (the server logged which check missed it)');
  }
  if (isProgramLimit(error)) {
    return new AppError('BAD_REQUEST', 'A value in the request is too large or too deeply nested to store');
  }
  return undefined;
}

/**
 * True for a driver error that validation or a service should have refused first (logged as
 * a gap to close); a foreign key violation is a concurrent change, not a gap.
 */
export function isRefusedValue(error: unknown): boolean {
  const code = (error as PgError | null)?.code;
  return isDataException(error) || isProgramLimit(error) || (isIntegrityViolation(error) && code !== '23503');
}

/**
 * SQLSTATE class 22 (data exception): the database refused a value, e.g. 22021 NUL in text,
 * 22P05 an untranslatable character in jsonb, 22P02 a malformed uuid or number, 22008 a
 * timestamp out of range. Validation should have refused the value first.
 */
export function isDataException(error: unknown): boolean {
  const code = (error as PgError | null)?.code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}

/** SQLSTATE class 54 (program limit exceeded): a value too large or too deeply nested to store or index. */
export function isProgramLimit(error: unknown): boolean {
  const code = (error as PgError | null)?.code;
  return typeof code === 'string' && /^54[0-9A-Z]{3}$/.test(code);
}
