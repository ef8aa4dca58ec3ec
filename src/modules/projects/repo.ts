import { sql, type Kysely } from 'kysely';
import { pageAfter } from '../../kernel/db/keyset.js';
import type { WrappedProjectKey } from '../../kernel/crypto/client-envelope.js';
import type { Database, ProjectEncryption } from '../../kernel/db/schema.js';

/** Constraints whose violation the service answers in its own words (see translateConstraints). */
export const PROJECT_CONSTRAINTS = { slug: 'projects_organization_id_slug_key', id: 'projects_pkey' } as const;

export function createProjectsRepo(db: Kysely<Database>) {
  return {
    /** `ids`, when given, narrows the read to those projects (one array parameter, the same keyset order). */
    list: (organizationId: string, afterSlug: string | undefined, limit: number, ids?: readonly string[]) => {
      const query = db.selectFrom('projects').selectAll().where('organization_id', '=', organizationId);
      return pageAfter(ids === undefined ? query : query.where(sql<boolean>`id = any(${ids}::uuid[])`), 'slug', afterSlug, limit);
    },
    insert: (project: { id?: string; organization_id: string; slug: string; name: string; description: string; encryption: ProjectEncryption }) =>
      db.insertInto('projects').values(project).returningAll().executeTakeFirstOrThrow(),
    insertKey: (projectId: string, key: WrappedProjectKey) => db.insertInto('project_keys').values({ project_id: projectId, ...keyColumns(key) }).execute(),
    update: (id: string, changes: { slug?: string; name?: string; description?: string }) =>
      db.updateTable('projects').set({ ...changes, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
    delete: (id: string) => db.deleteFrom('projects').where('id', '=', id).execute(),
  };
}

/** A wrapped key as its columns. */
export function keyColumns(key: WrappedProjectKey) {
  return {
    key_version: key.key_version,
    wrapped_key: key.wrapped_key,
    salt: key.salt,
    kdf_memory_kib: key.kdf.memory_kib,
    kdf_iterations: key.kdf.iterations,
    kdf_parallelism: key.kdf.parallelism,
  };
}
