import fs from 'node:fs';
import path from 'node:path';
import { CliError, EXIT } from './api-client.js';

/**
 * The CLI's one translation from API errors to sentences about what the person typed
 * (issue #11): a refused field is named as the CLI knows it (`Key "lowercase"`, `--expires-at`),
 * never as the API's `body.key`; a 404 names what was asked for and where. Every command's
 * error goes through `explain` in api-client.ts, so no command translates on its own.
 */

/** The places a request path names: `/orgs/acme/projects/shop/…` → { org: 'acme', project: 'shop' }. */
export function placesOf(path: string): Record<string, string> {
  const names: Record<string, string> = {
    orgs: 'org',
    projects: 'project',
    environments: 'env',
    services: 'service',
    clusters: 'cluster',
    tokens: 'token',
    variables: 'variable',
    members: 'member',
    roles: 'role',
    invitations: 'invitation',
    'audit-events': 'audit_event',
  };
  const segments = path.split('?')[0]!.split('/').filter(Boolean);
  const places: Record<string, string> = {};
  for (let i = 0; i + 1 < segments.length; i += 1) {
    const name = names[segments[i]!];
    if (name) places[name] = decodeURIComponent(segments[i + 1]!);
  }
  return places;
}

interface Field {
  /** How the person knows it: a word ("Key") or the flag that set it ("--expires-at"). */
  label: string;
  /** What to do instead, for a value that does not match the field's pattern. */
  fix?: string;
  /** Never quote the value back: it may be a secret. */
  secret?: boolean;
}

const SLUG_FIX = 'use a–z, 0–9 and -, start with a letter or digit, at most 63 characters';
const FIELDS: Record<string, Field> = {
  key: { label: 'Key', fix: 'use A–Z, 0–9 and _ and do not start with a digit' },
  slug: { label: 'Slug', fix: SLUG_FIX },
  org: { label: 'Organization', fix: SLUG_FIX },
  project: { label: 'Project', fix: SLUG_FIX },
  env: { label: 'Environment', fix: SLUG_FIX },
  service: { label: 'Service', fix: SLUG_FIX },
  type: { label: 'Type' },
  name: { label: 'Name' },
  email: { label: 'Email' },
  role: { label: 'Role' },
  preset: { label: '--preset' },
  scopes: { label: '--scopes' },
  path: { label: '--path' },
  expires_at: { label: '--expires-at' },
  mount_path: { label: '--mount-path' },
  immutable: { label: '--immutable' },
  version: { label: 'Version' },
  format: { label: '--format' },
  limit: { label: '--limit' },
  value: { label: 'The value', secret: true },
  password: { label: 'The password', secret: true },
  token: { label: 'The token', secret: true },
  pg_service: { label: 'The pg_service definition', secret: true },
};

/** What sits at `a.b[0].c` in `root`. */
function at(root: unknown, path: string): unknown {
  let current = root;
  for (const part of path.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

const quoted = (value: unknown) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}…` : text);
};

/**
 * `body.key: must match ^[A-Z_][A-Z0-9_]*$` about `{key: "lowercase"}` →
 * `Key "lowercase" is not valid: use A–Z, 0–9 and _ and do not start with a digit`.
 */
export function explainInvalid(detail: { field: string; reason: string }, request: { path: string; body?: unknown }): string {
  const [part, ...rest] = detail.field.split('.');
  const inside = rest.join('.');
  const last = inside.split('.').pop()!.replace(/\[\d+\]$/, '');
  const known = FIELDS[last];
  const label = known?.label ?? (inside ? `The field ${inside.replaceAll('_', ' ')}` : 'The request');
  let value: unknown;
  if (part === 'body') value = at(request.body, inside);
  else if (part === 'params') value = placesOf(request.path)[last];
  const shown = value === undefined || known?.secret ? '' : ` ${quoted(value)}`;
  const reason = detail.reason;
  if (/^is required/.test(reason)) return `${label} ${reason}`;
  if (/^is not a known field/.test(reason)) return `${label} is not something this server accepts (is the CLI newer than the server?)`;
  const why = /^must match /.test(reason)
    ? (known?.fix ?? reason.replace(/^must match (\S+)(?: \((.*)\))?$/, (_all, pattern: string, words?: string) => words ?? `it must match ${pattern}`))
    : reason;
  return `${label}${shown} is not valid: ${why}`;
}

const KIND_OF: Record<string, string> = {
  Organization: 'org',
  Project: 'project',
  Environment: 'env',
  Service: 'service',
  Cluster: 'cluster',
  Token: 'token',
  Variable: 'variable',
  Member: 'member',
  Role: 'role',
  Invitation: 'invitation',
  'Audit event': 'audit_event',
};

/**
 * `Project not found` about `/orgs/acme/projects/shop/…` → `Project "shop" not found in
 * organization "acme"`; `orgsOfCaller` lists where the caller belongs, for an unknown organization.
 */
export async function explainNotFound(message: string, path: string, orgsOfCaller: () => Promise<string | undefined>): Promise<string> {
  const thing = /^(.+) not found$/.exec(message)?.[1];
  const key = thing && KIND_OF[thing];
  const places = placesOf(path);
  if (!key || places[key] === undefined) return message;
  const named = `${thing} "${places[key]}" not found`;
  if (key === 'org') {
    const belong = await orgsOfCaller().catch(() => undefined);
    return belong === undefined ? named : `${named} (${belong})`;
  }
  const org = `organization "${places.org}"`;
  switch (key) {
    case 'project':
      return `${named} in ${org}`;
    case 'env':
      return `${named} in project "${places.project}" of ${org}`;
    case 'service':
      return `${named} in ${places.project}/${places.env} of ${org}`;
    case 'variable':
      return `${named} at this scope`;
    default:
      return `${named} in ${org}`;
  }
}

/**
 * Reads a file the person named (`--file KEY=@cert.pem`, `vars import .env`); a missing or
 * unreadable one is a usage error naming it and how it was given, never a raw ENOENT.
 */
export function readInputFile(file: string, givenAs: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw inputFileError(error, file, givenAs);
  }
}

/** A file-system error about a file the person named, in words (exit 2); other errors unchanged. */
export function inputFileError(error: unknown, file: string, givenAs: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (!code || !FILE_ERRORS[code]) return error;
  return new CliError(`${givenAs}: cannot read ${file} (${path.resolve(file)}): ${FILE_ERRORS[code]}`, EXIT.usage);
}

/** File-system errors in words, for files the person named. */
export const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'there is no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory, not a file',
  ENOTDIR: 'a part of its path is not a directory',
};
