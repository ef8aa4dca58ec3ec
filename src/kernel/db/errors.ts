/** PostgreSQL error classification shared by every repo (pg and PGlite both expose `code`). */
interface PgError {
  code?: string;
  constraint?: string;
}

export function isUniqueViolation(error: unknown): error is PgError {
  return (error as PgError | null)?.code === '23505';
}

export function isForeignKeyViolation(error: unknown): error is PgError {
  return (error as PgError | null)?.code === '23503';
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
