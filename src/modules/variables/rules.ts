import type { VariableType } from '../../kernel/db/schema.js';
import { invalid } from '../../kernel/errors.js';
import { parsePgServiceSection, validatePgService, type PgServiceDefinition } from './pg-service.js';

/** SPEC §3 key and size rules, in one place for the schemas, the service and the CLI. */
export const KEY_PATTERN = '^[A-Z_][A-Z0-9_]*$';
export const MAX_KEY_LENGTH = 256;
export const MAX_VALUE_BYTES = 64 * 1024;
export const MAX_FILE_BYTES = 1024 * 1024;
const KEY = new RegExp(KEY_PATTERN);

/** What gets sealed for a variable: its name and the plaintext, validated. */
export interface VariableContent {
  type: VariableType;
  /** The key, or the pg_service entry's service name. */
  name: string;
  plaintext: string;
  mountPath: string | null;
}

/** A pg_service entry as a client sends it: `extra` may be left out. */
export type PgServiceInput = Omit<PgServiceDefinition, 'extra'> & { extra?: Record<string, string> };

export interface ContentInput {
  key?: string;
  type: VariableType;
  value?: string;
  pg_service?: PgServiceInput;
  mount_path?: string | null;
}

export function checkKey(key: string | undefined, field = 'body.key'): string {
  if (key === undefined || key === '') throw invalid(field, 'is required (upper-case letters, digits and _)');
  if (key.length > MAX_KEY_LENGTH) throw invalid(field, `must be at most ${MAX_KEY_LENGTH} characters`);
  if (!KEY.test(key)) throw invalid(field, `must match ${KEY_PATTERN} (upper-case letters, digits and _, not starting with a digit)`);
  return key;
}

export function checkValue(value: string | undefined, type: VariableType, field = 'body.value'): string {
  if (value === undefined) throw invalid(field, `is required for a ${type} variable`);
  // Environment variables and files handed to processes cannot carry NUL.
  if (value.includes('\0')) throw invalid(field, 'must not contain the NUL character');
  // A lone UTF-16 surrogate (JSON allows "\ud800") has no UTF-8 form: it would be stored altered.
  if (/\p{Cs}/u.test(value)) throw invalid(field, 'must be valid Unicode (it holds a lone surrogate)');
  const limit = type === 'file' ? MAX_FILE_BYTES : MAX_VALUE_BYTES;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > limit) throw invalid(field, `is ${bytes} bytes; a ${type} value may hold at most ${limit} bytes`);
  return value;
}

function checkMountPath(type: VariableType, mountPath: string | null | undefined): string | null {
  if (type !== 'file') {
    if (mountPath != null) throw invalid('body.mount_path', 'is only for variables of type file');
    return null;
  }
  if (mountPath == null || mountPath === '') throw invalid('body.mount_path', 'is required for a file variable: the absolute path the file is delivered at');
  if (!mountPath.startsWith('/')) throw invalid('body.mount_path', 'must be an absolute path (starting with /)');
  if (mountPath.length > 4096) throw invalid('body.mount_path', 'must be at most 4096 characters');
  if (mountPath.includes('\0')) throw invalid('body.mount_path', 'must not contain the NUL character');
  if (mountPath.split('/').slice(1).some((part) => part === '..' || part === '.' || part === '')) {
    throw invalid('body.mount_path', 'must be a normalised path: no empty, . or .. segments');
  }
  if (mountPath.endsWith('/')) throw invalid('body.mount_path', 'must name a file, not a directory');
  return mountPath;
}

/**
 * Validates a variable's content and turns it into what is sealed. A pg_service entry comes
 * structured (`pg_service`) or as the raw text of a pg_service.conf section (`value`); it has
 * no key, its identity is its service name.
 */
export function contentOf(input: ContentInput): VariableContent {
  if (input.type === 'pg_service') {
    if (input.key !== undefined) throw invalid('body.key', 'a pg_service entry has no key: its service name identifies it');
    if (input.mount_path != null) throw invalid('body.mount_path', 'is only for variables of type file');
    if ((input.pg_service === undefined) === (input.value === undefined)) {
      throw invalid('body.pg_service', 'give either pg_service (structured) or value (the raw text of one pg_service.conf section)');
    }
    const definition =
      input.pg_service !== undefined
        ? validatePgService({ ...input.pg_service, extra: input.pg_service.extra ?? {} }, 'body.pg_service')
        : validatePgService(parsePgServiceSection(checkValue(input.value, 'pg_service'), 'body.value'), 'body.value');
    return { type: 'pg_service', name: definition.service, plaintext: JSON.stringify(definition), mountPath: null };
  }
  if (input.pg_service !== undefined) throw invalid('body.pg_service', 'is only for variables of type pg_service');
  return {
    type: input.type,
    name: checkKey(input.key),
    plaintext: checkValue(input.value, input.type),
    mountPath: checkMountPath(input.type, input.mount_path),
  };
}

/** Secrets, files and pg_service entries are write-only through management routes: shown masked. */
export function isConcealed(type: VariableType): boolean {
  return type !== 'plain';
}
