import { SLUG_PATTERN } from './http/schemas.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SLUG = new RegExp(SLUG_PATTERN);

/** Checked before a lookup: a malformed id is simply "not found", never a database error. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Splits a path (`project`, `project/environment` or `project/environment/service`); undefined when malformed. */
export function splitHierarchyPath(path: string): { project: string; env?: string; service?: string } | undefined {
  const parts = path.split('/');
  if (parts.length > 3 || !parts.every((part) => SLUG.test(part))) return undefined;
  const [project, env, service] = parts as [string, string?, string?];
  return { project, env, service };
}
