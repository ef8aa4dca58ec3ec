import type { Kysely } from 'kysely';
import { seal, valueAad } from '../../kernel/crypto/aead.js';
import { checkWrappedKey, type WrappedProjectKey } from '../../kernel/crypto/client-envelope.js';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { Database, Project, Variable } from '../../kernel/db/schema.js';
import { conflict, invalid } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { withAudit } from '../audit/recorder.js';
import { checkClientValue } from '../variables/client-values.js';
import { requireEverywhereInProject } from '../variables/place.js';
import { createVariablesRepo } from '../variables/repo.js';
import { checkValue } from '../variables/rules.js';
import { openValue } from '../variables/sealed-value.js';
import { createProjectsRepo } from '../projects/repo.js';
import { createProjectKeysRepo } from './repo.js';

/** One live variable's next value in a request that rewrites all of them (a rotation or a conversion). */
export interface SentValue {
  variable_id: string;
  version: number;
  value: string;
}

export interface ConvertInput {
  to: 'client' | 'server';
  /** to client: the new project key, wrapped under the passphrase and bound to the project. */
  key?: WrappedProjectKey;
  /** to server: the key version the client decrypted with. */
  current_key_version?: number;
  values: SentValue[];
}

/**
 * Pairs every live variable with the value sent for it at its next version: a value missing,
 * extra, repeated or stale refuses the whole request (409 for what changed since the client read).
 */
export function pairValues(live: Variable[], values: SentValue[], project: Project, what: string): { variable: Variable; value: SentValue; index: number }[] {
  const sent = new Map<string, { value: SentValue; index: number }>();
  for (const [index, value] of values.entries()) {
    if (sent.has(value.variable_id)) throw invalid(`body.values.${index}.variable_id`, 'names a variable twice');
    sent.set(value.variable_id, { value, index });
  }
  const missing = live.filter((variable) => !sent.has(variable.id));
  if (missing.length > 0 || sent.size !== live.length) {
    throw conflict(
      `${what} rewrites every live value of ${project.slug}: ${missing.length > 0 ? `missing ${missing.map((v) => v.name).join(', ')}` : 'some values name no live variable of this project'}. Read the variables again and retry`,
      { missing: missing.map((v) => v.id) },
    );
  }
  return live.map((variable) => {
    const { value, index } = sent.get(variable.id)!;
    const version = variable.version + 1;
    if (value.version !== version) throw conflict(`${variable.name} changed since you read it: this request would create version ${version}, not ${value.version}. Read it again and retry`, { variable_id: variable.id });
    return { variable, value, index };
  });
}

/**
 * Converting a project between server- and client-managed keys (SPEC §4, issue #13), driven by
 * a client holding the passphrase. The client reads every live value (`values`: in clear from a
 * server-managed project, as ciphertext from a client-managed one) and sends each back, under
 * the other model, at its next version; the server applies all of it in one transaction.
 *
 * No plaintext is left behind in versions: older versions are **purged**, not re-encrypted, in
 * both directions (a server-readable version must not survive in a client project, and the
 * server cannot read the client ciphertext it would keep in a server one), and so are deleted
 * variables of the project with their history. Only each live value's new version remains.
 *
 * Permissions: the route's `project:write` (the action that edits a project), and on every
 * environment type of the project `secret:decrypt` (to client: the client reads every value in
 * clear) or `key:retrieve` (to server: the client unwraps the key). ADMIN and OWNER hold all of them.
 */
export function createConversionService(deps: { db: Kysely<Database>; keyring: Keyring; changed: (organizationId: string) => Promise<void>; hierarchyChanged: () => Promise<void> }) {
  const { db, keyring } = deps;

  function requireReader(access: RequestAccess, project: Project) {
    if (project.encryption === 'server') requireEverywhereInProject(access, 'secret:decrypt', 'Converting a project to client-managed keys reads every value in clear');
    else requireEverywhereInProject(access, 'key:retrieve', 'Converting a project to server-managed keys decrypts every value with the project key');
  }

  /** The project row, locked: a variable write holds it FOR SHARE (client-values.ts holdEncryption), so none lands mid-conversion. */
  const lockProject = (tx: Kysely<Database>, project: Project) => tx.selectFrom('projects').selectAll().where('id', '=', project.id).forUpdate().executeTakeFirstOrThrow();

  /** Deletes every version but the current one of the project's variables, and its deleted variables with their history. */
  async function purge(tx: Kysely<Database>, projectId: string): Promise<{ versions: number; deletedVariables: number }> {
    const deleted = tx.selectFrom('variables').select('id').where('project_id', '=', projectId).where('deleted_at', 'is not', null);
    const ofDeleted = await tx.selectFrom('variable_versions').select((eb) => eb.fn.countAll<string>().as('count')).where('variable_id', 'in', deleted).executeTakeFirstOrThrow();
    const gone = await tx.deleteFrom('variables').where('project_id', '=', projectId).where('deleted_at', 'is not', null).executeTakeFirst();
    const older = await tx
      .deleteFrom('variable_versions')
      .where('variable_id', 'in', tx.selectFrom('variables').select('id').where('project_id', '=', projectId))
      .where('version', '<', (eb) => eb.selectFrom('variables').select('variables.version').whereRef('variables.id', '=', 'variable_versions.variable_id'))
      .executeTakeFirst();
    return { versions: Number(older.numDeletedRows) + Number(ofDeleted.count), deletedVariables: Number(gone.numDeletedRows) };
  }

  return {
    /**
     * Every live value of the project for a conversion, secrets and files included: in clear
     * from a server-managed project, client ciphertext from a client-managed one. READ_SECRET.
     */
    values(access: RequestAccess, project: Project) {
      requireReader(access, project);
      return withAudit(db, access.audit, async (tx, note) => {
        const rows = await createProjectKeysRepo(tx).liveVariables(project.id);
        const dataKeys = await keyring.byIds(tx, rows.map((row) => row.data_key_id));
        const key = project.encryption === 'client' ? await createProjectKeysRepo(tx).find(project.id) : undefined;
        const items = rows.map((row) => ({
          variable_id: row.id,
          key: row.name,
          type: row.type,
          scope: row.scope,
          environment_id: row.environment_id,
          service_id: row.service_id,
          assignee_user_id: row.assignee_user_id,
          mount_path: row.mount_path,
          version: row.version,
          value: openValue(dataKeys.get(row.data_key_id)!, row, row.version, row.ciphertext!),
        }));
        const held = project.encryption === 'server';
        note({
          event_type: 'READ_SECRET',
          target_type: 'project',
          target_id: project.id,
          target_name: project.slug,
          change: `Read the ${items.length} values of ${project.slug}${held ? ' in clear' : ' as client ciphertext'} to convert its encryption`,
          details: { encryption: project.encryption, server_held_key: held, key_count: items.length, purpose: 'conversion' },
        });
        return { organization_id: project.organization_id, project_id: project.id, encryption: project.encryption, key_version: key?.key_version ?? null, items };
      });
    },

    async convert(access: RequestAccess, project: Project, input: ConvertInput) {
      requireReader(access, project);
      if (input.to === 'client') {
        if (input.key === undefined) throw invalid('body.key', 'is required with to client: the new project key your client generated, wrapped under the passphrase');
        const [problem] = checkWrappedKey(input.key, 'body.key');
        if (problem) throw invalid(problem[0], problem[1]);
        if (input.key.key_version !== 1) throw invalid('body.key.key_version', 'must be 1: a converted project starts a new key');
        if (input.current_key_version !== undefined) throw invalid('body.current_key_version', 'is only for to server');
      } else {
        if (input.key !== undefined) throw invalid('body.key', 'is only for to client: a server-managed project has no client key');
        if (input.current_key_version === undefined) throw invalid('body.current_key_version', 'is required with to server: the key version you decrypted the values with');
      }
      const result = await withAudit(db, access.audit, async (tx, note) => {
        const current = await lockProject(tx, project);
        if (current.encryption === input.to) throw conflict(`Project ${project.slug} is already ${input.to}-managed`, { encryption: current.encryption });
        const keys = createProjectKeysRepo(tx);
        if (input.to === 'server') {
          const key = (await keys.find(project.id, 'update'))!;
          if (key.key_version !== input.current_key_version) {
            throw conflict(`The project's key is at version ${key.key_version}, not ${input.current_key_version}: it was rotated since you read it`, { field: 'body.current_key_version' });
          }
        }
        const live = await keys.liveVariablesForUpdate(project.id);
        const services = live.filter((variable) => variable.type === 'pg_service');
        if (input.to === 'client' && services.length > 0) {
          throw conflict(
            `Project ${project.slug} holds pg_service entries (${services.map((v) => v.name).join(', ')}), which a client-managed project cannot hold: delete them or define them at organization scope first`,
            { pg_services: services.map((v) => v.name) },
          );
        }
        const paired = pairValues(live, input.values, project, 'A conversion');
        const dataKey = await keyring.forOwner(tx, project.organization_id, project.id);
        const repo = createVariablesRepo(tx);
        const actor = { actor_type: access.audit.actor.type, actor_id: access.audit.actor.id, actor_name: access.audit.actor.name };
        for (const { variable, value, index } of paired) {
          const field = `body.values.${index}.value`;
          // To client: checked client ciphertext under key version 1. To server: a value, checked as any write's.
          const stored = input.to === 'client' ? checkClientValue(value.value, variable.type, 1, field) : checkValue(value.value, variable.type, field);
          const ciphertext = seal(dataKey.key, stored, valueAad(variable.id, value.version));
          await tx.updateTable('variables').set({ version: value.version, ciphertext, data_key_id: dataKey.id, updated_at: new Date() }).where('id', '=', variable.id).execute();
          await repo.addVersion({ variable_id: variable.id, version: value.version, operation: 'UPDATE', type: variable.type, mount_path: variable.mount_path, ciphertext, rolled_back_from: null, ...actor });
        }
        const purged = await purge(tx, project.id);
        if (input.to === 'client') await createProjectsRepo(tx).insertKey(project.id, input.key!);
        else await tx.deleteFrom('project_keys').where('project_id', '=', project.id).execute();
        await tx.updateTable('projects').set({ encryption: input.to, updated_at: new Date() }).where('id', '=', project.id).execute();
        const summary = { encryption: input.to, reencrypted: paired.length, purged_versions: purged.versions, purged_deleted_variables: purged.deletedVariables };
        note({
          event_type: 'UPDATE',
          target_type: 'project',
          target_id: project.id,
          target_name: project.slug,
          change:
            `Converted project ${project.slug} to ${input.to}-managed keys: ${input.to === 'client' ? 're-encrypted' : 'sealed server-side'} ${paired.length} values, ` +
            `purged ${purged.versions} older versions and ${purged.deletedVariables} deleted variables`,
          details: { before: { encryption: current.encryption }, after: { encryption: input.to }, ...summary },
        });
        return summary;
      });
      await deps.changed(project.organization_id);
      await deps.hierarchyChanged();
      return result;
    },
  };
}

export type ConversionService = ReturnType<typeof createConversionService>;
