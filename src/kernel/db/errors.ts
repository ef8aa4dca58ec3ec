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
