import type { Kysely } from 'kysely';
import { CLIENT_PLACEHOLDER, ENVELOPE_OVERHEAD, parseEnvelope } from '../../kernel/crypto/client-envelope.js';
import type { Database, Project, VariableScopeLevel, VariableType } from '../../kernel/db/schema.js';
import { AppError, conflict, invalid } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { MAX_FILE_BYTES, MAX_VALUE_BYTES } from './rules.js';

/**
 * Client-managed projects (SPEC §4, issue #13): their values arrive as client ciphertext and
 * are stored as such (sealed once more under the project's data key, like every value, which
 * adds nothing a thief could use). The server checks the envelope's shape, size and key
 * version, and never anything else about it.
 */

/** The project a variable route at `level` manages, when it is client-managed. */
export function clientProjectOf(access: RequestAccess, level: VariableScopeLevel): Project | null {
  if (level === 'organization') return null;
  const project = (access.scope as { project?: Project }).project;
  return project?.encryption === 'client' ? project : null;
}

/** The answer to anything that would need the server to decrypt a client-managed project's values. */
export function clientManagedRefusal(project: Pick<Project, 'slug'>, what = 'decrypt its values'): AppError {
  return new AppError(
    'CONFLICT',
    `Project ${project.slug} is client-managed: the server holds no key for it and cannot ${what}. ` +
      'Decrypt on your side with the coffer CLI (coffer run, coffer export, coffer vars), giving the passphrase in COFFER_PASSPHRASE or --passphrase-file FILE',
    { encryption: 'client', project: project.slug },
  );
}

/**
 * pg_service entries stay out of client-managed projects: the server merges them field by field
 * and renders them as pg_service.conf, which it cannot do with ciphertext, and storing one
 * server-readable there would break the project's promise silently. Built-in service outputs
 * do reach such a project's resolutions, server-managed and marked `encryption: "server"`.
 */
export function pgServiceRefusal(project: Pick<Project, 'slug'>): AppError {
  return new AppError(
    'CONFLICT',
    `Project ${project.slug} is client-managed: it cannot hold pg_service entries, which the server would have to read to merge and render as pg_service.conf. ` +
      'Define the entry at organization scope (server-managed, it reaches this project marked encryption "server"), or keep its fields as secret variables here',
    { encryption: 'client', project: project.slug, field: 'body.type' },
  );
}

/** The project's current key version, held (FOR SHARE) so that no rotation commits under this write. */
export async function currentKeyVersion(tx: Kysely<Database>, project: Pick<Project, 'id' | 'slug'>): Promise<number> {
  const row = await tx.selectFrom('project_keys').select('key_version').where('project_id', '=', project.id).forShare().executeTakeFirst();
  if (!row) throw new AppError('INTERNAL', `Project ${project.slug} is client-managed but has no key`);
  return row.key_version;
}

/** Checks a client ciphertext for `type`, encrypted under the project's current key. */
export function checkClientValue(value: string | undefined, type: VariableType, keyVersion: number, field = 'body.value'): string {
  if (value === undefined) throw invalid(field, 'is required in a client-managed project: each version is encrypted by the client');
  const parsed = parseEnvelope(value);
  if (typeof parsed === 'string') throw invalid(field, parsed);
  if (parsed.keyVersion !== keyVersion) {
    throw conflict(`${field} is encrypted under key version ${parsed.keyVersion}, but the project's key is at version ${keyVersion} (it was rotated): fetch the key again and re-encrypt`, { field, key_version: keyVersion });
  }
  const limit = type === 'file' ? MAX_FILE_BYTES : MAX_VALUE_BYTES;
  if (parsed.sealed.length - ENVELOPE_OVERHEAD > limit) throw invalid(field, `holds more than ${limit} bytes, the most a ${type} value may hold`);
  return value;
}

/** The version a client write creates must be the one its ciphertext is bound to. */
export function checkBoundVersion(sent: number | undefined, creates: number, name: string): void {
  if (sent === undefined) throw invalid('body.version', `is required in a client-managed project: the version this write creates (${name} is at ${creates - 1}), which the ciphertext is bound to`);
  if (sent !== creates) throw conflict(`${name} changed since you read it: this write would create version ${creates}, not ${sent}. Read it again and re-encrypt`, { field: 'body.version', version: creates - 1 });
}

/** What a listing shows of a client ciphertext: plain values as stored (the CLI decrypts them), the rest a fixed placeholder. */
export function shownClientValue(type: VariableType, envelope: string | null) {
  if (envelope === null) return { value: null };
  return { value: type === 'plain' ? envelope : CLIENT_PLACEHOLDER };
}

/**
 * Holds (FOR SHARE) the encryption model of the project a write at `level` lands in, and refuses
 * the write when a conversion (project-keys/conversion.ts) changed it since the request read it:
 * otherwise a value sealed for a server-managed project could land, readable, in a client one.
 */
export async function holdEncryption(tx: Kysely<Database>, access: RequestAccess, level: VariableScopeLevel): Promise<void> {
  if (level === 'organization') return;
  const project = (access.scope as { project?: Project }).project;
  if (!project) return;
  const row = await tx.selectFrom('projects').select('encryption').where('id', '=', project.id).forShare().executeTakeFirst();
  if (row && row.encryption !== project.encryption) {
    throw conflict(`Project ${project.slug} was converted to ${row.encryption}-managed keys while this request ran: nothing was written; read it again and retry`, { encryption: row.encryption, project: project.slug });
  }
}
