import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { WrappedProjectKey } from '../../kernel/crypto/client-envelope.js';
import { keyColumns } from '../projects/repo.js';

export function createProjectKeysRepo(db: Kysely<Database>) {
  return {
    /** `lock`: 'update' for a change of key, 'share' for a write of a value (so no rotation runs under it). */
    find(projectId: string, lock?: 'update' | 'share') {
      const query = db.selectFrom('project_keys').selectAll().where('project_id', '=', projectId);
      return (lock === 'update' ? query.forUpdate() : lock === 'share' ? query.forShare() : query).executeTakeFirst();
    },
    replace: (projectId: string, key: WrappedProjectKey) =>
      db.updateTable('project_keys').set({ ...keyColumns(key), updated_at: new Date() }).where('project_id', '=', projectId).returningAll().executeTakeFirstOrThrow(),
    liveVariables: (projectId: string) =>
      db.selectFrom('variables').selectAll().where('project_id', '=', projectId).where('deleted_at', 'is', null).orderBy('id').execute(),
    /** Every live variable of a project, at each of its scopes, locked for a rotation. */
    liveVariablesForUpdate: (projectId: string) =>
      db.selectFrom('variables').selectAll().where('project_id', '=', projectId).where('deleted_at', 'is', null).orderBy('id').forUpdate().execute(),
  };
}
