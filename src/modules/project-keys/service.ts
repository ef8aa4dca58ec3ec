import type { Kysely } from 'kysely';
import { seal, valueAad } from '../../kernel/crypto/aead.js';
import { openValue } from '../variables/sealed-value.js';
import { checkWrappedKey, type WrappedProjectKey } from '../../kernel/crypto/client-envelope.js';
import { constantTimeEqual } from '../../kernel/crypto/random-token.js';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { Database, Project } from '../../kernel/db/schema.js';
import { conflict, invalid } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { withAudit } from '../audit/recorder.js';
import { checkClientValue } from '../variables/client-values.js';
import { createVariablesRepo } from '../variables/repo.js';
import { pairValues, type SentValue } from './conversion.js';
import { createProjectKeysRepo } from './repo.js';
import { toProjectKeyView } from './schemas.js';

export interface RotateInput {
  current_key_version: number;
  key: WrappedProjectKey;
  values: SentValue[];
}

function checkKey(key: WrappedProjectKey, field: string): void {
  const [problem] = checkWrappedKey(key, field);
  if (problem) throw invalid(problem[0], problem[1]);
}

/**
 * The key of a client-managed project (SPEC §4): handed out wrapped (key:retrieve), re-wrapped
 * under a new passphrase, or replaced by a new key with every live value re-encrypted, all
 * by a client; the server only checks shapes and versions and applies each change atomically.
 */
export function createProjectKeysService(deps: { db: Kysely<Database>; keyring: Keyring; changed: (organizationId: string) => Promise<void> }) {
  const { db } = deps;

  async function keyOf(tx: Kysely<Database>, project: Project, lock?: 'update') {
    if (project.encryption !== 'client') {
      throw conflict(`Project ${project.slug} is server-managed: Coffer holds its keys and there is no client key to retrieve or change`, { encryption: 'server' });
    }
    const key = await createProjectKeysRepo(tx).find(project.id, lock);
    // The request read the project before a conversion to server-managed keys committed.
    if (!key) throw conflict(`Project ${project.slug} was converted to server-managed keys: it has no client key any more`, { encryption: 'server' });
    return key;
  }

  const target = (project: Project) => ({ target_type: 'project', target_id: project.id, target_name: project.slug });

  return {
    async get(access: RequestAccess, project: Project) {
      return toProjectKeyView(access.scope.organization.id, await keyOf(db, project));
    },

    /**
     * Every live value of the project as client ciphertext, secrets included, with what each is
     * bound to: what a rotation re-encrypts. Recorded as READ_SECRET, though the server held no key.
     */
    listValues: (access: RequestAccess, project: Project) =>
      withAudit(db, access.audit, async (tx, note) => {
        const key = await keyOf(tx, project);
        const rows = await createProjectKeysRepo(tx).liveVariables(project.id);
        const dataKeys = await deps.keyring.byIds(tx, rows.map((row) => row.data_key_id));
        const items = rows.map((row) => ({
          variable_id: row.id,
          key: row.name,
          type: row.type,
          scope: row.scope,
          environment_id: row.environment_id,
          service_id: row.service_id,
          assignee_user_id: row.assignee_user_id,
          version: row.version,
          value: openValue(dataKeys.get(row.data_key_id)!, row, row.version, row.ciphertext!),
        }));
        note({ event_type: 'READ_SECRET', ...target(project), change: `Read the ${items.length} client-encrypted values of ${project.slug} (for a key rotation)`, details: { encryption: 'client', server_held_key: false, key_count: items.length } });
        return { key_version: key.key_version, items };
      }),

    /** The client proves it unwrapped the current key by presenting it; the key itself does not change. */
    changePassphrase(access: RequestAccess, project: Project, input: { current_wrapped_key: string; key: WrappedProjectKey }) {
      checkKey(input.key, 'body.key');
      return withAudit(db, access.audit, async (tx, note) => {
        const current = await keyOf(tx, project, 'update');
        if (!constantTimeEqual(input.current_wrapped_key, current.wrapped_key)) {
          throw conflict('body.current_wrapped_key is not the current wrapped key: it changed since you read it (another passphrase change or a rotation)', { field: 'body.current_wrapped_key' });
        }
        if (input.key.key_version !== current.key_version) {
          throw invalid('body.key.key_version', `must stay ${current.key_version}: a passphrase change re-wraps the same key (rotate-key replaces it)`);
        }
        const updated = await createProjectKeysRepo(tx).replace(project.id, input.key);
        note({ event_type: 'UPDATE', ...target(project), change: `Changed the passphrase of project ${project.slug} (key version ${current.key_version} re-wrapped)`, details: { key_version: current.key_version, kdf: toProjectKeyView('', updated).kdf } });
        return toProjectKeyView(access.scope.organization.id, updated);
      });
    },

    /**
     * A new key and every live value of the project re-encrypted under it, in one transaction:
     * a value missing, extra, stale or under another key refuses the whole request.
     */
    async rotate(access: RequestAccess, project: Project, input: RotateInput) {
      checkKey(input.key, 'body.key');
      const result = await withAudit(db, access.audit, async (tx, note) => {
        const keys = createProjectKeysRepo(tx);
        const current = await keyOf(tx, project, 'update');
        if (input.current_key_version !== current.key_version) {
          throw conflict(`The project's key is at version ${current.key_version}, not ${input.current_key_version}: it was rotated since you read it`, { field: 'body.current_key_version' });
        }
        const next = current.key_version + 1;
        if (input.key.key_version !== next) throw invalid('body.key.key_version', `must be ${next}, the version after the current key`);
        const live = await keys.liveVariablesForUpdate(project.id);
        const paired = pairValues(live, input.values, project, 'A rotation');
        const repo = createVariablesRepo(tx);
        const dataKey = await deps.keyring.forOwner(tx, access.scope.organization.id, project.id);
        const actor = { actor_type: access.audit.actor.type, actor_id: access.audit.actor.id, actor_name: access.audit.actor.name };
        for (const { variable, value } of paired) {
          const version = value.version;
          const envelope = checkClientValue(value.value, variable.type, next, `body.values (${variable.name})`);
          // Sealed under the project's data key, as every value; older rows may use the same key id.
          const ciphertext = seal(dataKey.key, envelope, valueAad(variable.id, version));
          await tx.updateTable('variables').set({ version, ciphertext, data_key_id: dataKey.id, updated_at: new Date() }).where('id', '=', variable.id).execute();
          await repo.addVersion({ variable_id: variable.id, version, operation: 'UPDATE', type: variable.type, mount_path: variable.mount_path, ciphertext, rolled_back_from: null, ...actor });
        }
        await keys.replace(project.id, input.key);
        note({
          event_type: 'UPDATE',
          ...target(project),
          change: `Rotated the key of project ${project.slug} to version ${next}; re-encrypted ${live.length} values`,
          details: { key_version: next, reencrypted: live.length },
        });
        return { key_version: next, reencrypted: live.length };
      });
      await deps.changed(access.scope.organization.id);
      return result;
    },
  };
}

export type ProjectKeysService = ReturnType<typeof createProjectKeysService>;
