import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalid, type AppError } from '../errors.js';

/**
 * Text PostgreSQL cannot store or that is not Unicode: NUL (text and jsonb refuse it) and
 * UTF-16 surrogates without their pair (JSON.parse and URL decoding accept them; UTF-8
 * cannot encode them, so they would be refused by jsonb or silently replaced in text).
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const UNSAFE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** No request body of this API nests deeper than a few levels; deeper ones only cost stack. */
export const MAX_DEPTH = 32;

function reasonOf(text: string): string {
  return text.includes('\u0000') ? 'must not contain NUL characters' : 'must be valid Unicode (it holds a lone UTF-16 surrogate)';
}

/**
 * The first problem in a parsed request part (`part` is params, query or body): a string or
 * key holding NUL or a lone surrogate, a number that is not finite, or nesting deeper than
 * MAX_DEPTH, as a 400 naming the field. Iterative, so a hostile depth cannot overflow the stack.
 */
export function findUnsafeText(part: string, value: unknown): AppError | undefined {
  const stack: { value: unknown; field: string; depth: number }[] = [{ value, field: part, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, field, depth } = stack.pop()!;
    if (typeof current === 'string') {
      if (UNSAFE.test(current)) return invalid(field, reasonOf(current));
      continue;
    }
    // JSON.parse reads 1e309 as Infinity, and ajv's coercion turns ?limit=-Infinity into a
    // number that skips its minimum and maximum checks.
    if (typeof current === 'number' && !Number.isFinite(current)) return invalid(field, 'must be a finite number');
    if (current === null || typeof current !== 'object') continue;
    if (depth >= MAX_DEPTH) return invalid(field, `is nested too deeply (at most ${MAX_DEPTH} levels)`);
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], field: `${field}[${i}]`, depth: depth + 1 });
      continue;
    }
    const entries = Object.entries(current);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, inner] = entries[i]!;
      // A bad key is not echoed: the field named is the object holding it.
      if (UNSAFE.test(key)) {
        return invalid(field, key.includes('\u0000') ? 'has a key with a NUL character' : 'has a key that is not valid Unicode (a lone UTF-16 surrogate)');
      }
      stack.push({ value: inner, field: `${field}.${key}`, depth: depth + 1 });
    }
  }
  return undefined;
}

/** Throws the first unsafe text of the request's params, query string and body. */
export function checkRequestText(request: FastifyRequest, parts: readonly Part[] = ALL_PARTS): void {
  const problem = findRequestText(request, parts);
  if (problem) throw problem;
}

type Part = 'params' | 'query' | 'body';
const ALL_PARTS: readonly Part[] = ['params', 'query', 'body'];
const PATH_PARTS: readonly Part[] = ['params', 'query'];

function findRequestText(request: FastifyRequest, parts: readonly Part[]): AppError | undefined {
  for (const part of parts) {
    const value = request[part];
    // The common case, nothing or a flat object of safe strings, without the walk's allocations.
    if (value === undefined || value === null || (isFlatObject(value) && flatIsSafe(value as Record<string, unknown>))) continue;
    const problem = findUnsafeText(part, value);
    if (problem) return problem;
  }
  return undefined;
}

function isFlatObject(value: unknown): boolean {
  return typeof value === 'object' && !Array.isArray(value);
}

/** True when every key and value of `value` is a safe string (or a finite number, a boolean); false sends it to the full walk. */
function flatIsSafe(value: Record<string, unknown>): boolean {
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return false;
    const inner = value[key];
    if (UNSAFE.test(key)) return false;
    if (typeof inner === 'string') {
      if (UNSAFE.test(inner)) return false;
    } else if (typeof inner === 'number') {
      if (!Number.isFinite(inner)) return false;
    } else if (typeof inner !== 'boolean') {
      return false;
    }
  }
  return true;
}

/**
 * Every route refuses NUL and lone surrogates in any string of its params, query string
 * and body (and non-finite numbers, over-deep nesting) before schema validation and before
 * any database work: one check for all schemas rather than a pattern on each.
 */
export function installTextInputCheck(app: FastifyInstance): void {
  // With `done`, not async: these run on every request, and a promise and a tick each cost.
  app.addHook('preValidation', (request, _reply, done) => done(findRequestText(request, ALL_PARTS)));
  // Again once the query string and params are coerced to their schema types (numbers).
  app.addHook('preHandler', (request, _reply, done) => done(findRequestText(request, PATH_PARTS)));
}
