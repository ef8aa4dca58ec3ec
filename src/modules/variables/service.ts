import type { Kysely } from 'kysely';
import { seal, valueAad } from '../../kernel/crypto/aead.js';
import type { Database, VariableScopeLevel, VariableType, VariableVersion } from '../../kernel/db/schema.js';
import { translateConstraint } from '../../kernel/db/errors.js';
import { conflict, invalid, notFound } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { isUuid } from '../../kernel/ids.js';
import { decodeCursorKey, toPage } from '../../kernel/http/pagination.js';
import { withAudit } from '../audit/recorder.js';
import type { ValueHmac } from '../audit/value-hmac.js';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import { assignedVisibleTo, eventTarget, placeOf, requireWriteEverywhereInProject } from './place.js';
import { shownValue } from './shown-value.js';
import { checkBoundVersion, checkClientValue, clientManagedRefusal, clientProjectOf, currentKeyVersion, holdEncryption, pgServiceRefusal } from './client-values.js';
import { VARIABLE_CONSTRAINTS, createVariablesRepo, listKeyOf } from './repo.js';
import { contentOf, type PgServiceInput, type VariableContent } from './rules.js';
import { openValue } from './sealed-value.js';
import { createVariableWrites, type UpdateInput } from './writes.js';
import { createVariablesBatch } from './batch.js';

export { placeOf } from './place.js';
export type { UpdateInput } from './writes.js';

export interface CreateInput {
  key?: string;
  type?: VariableType;
  value?: string;
  pg_service?: PgServiceInput;
  mount_path?: string;
  immutable?: boolean;
  assignee_user_id?: string;
  /** Client-managed projects: the version the ciphertext is bound to (1 for a creation). */
  version?: number;
}

export function createVariablesService(deps: {
  db: Kysely<Database>;
  keyring: Keyring;
  valueHmac: ValueHmac;
  /** Called after a committed change, before its response: resolution caches drop the organization. */
  changed: (organizationId: string) => Promise<void>;
}) {
  const { db, keyring } = deps;

  const writes = createVariableWrites(deps);
  const { decrypt, view, auditFields, label, actorOf } = writes;

  const duplicate = (content: Pick<VariableContent, 'type' | 'name'>, assignee: string | null) =>
    conflict(
      `${content.type === 'pg_service' ? `A pg_service entry named ${content.name}` : `A variable ${content.name}`} already exists here${assignee ? ' for this member' : ''}`,
      { field: content.type === 'pg_service' ? 'body.pg_service.service' : 'body.key' },
    );

  function requireWrite(access: RequestAccess, level: VariableScopeLevel) {
    if (level === 'project') requireWriteEverywhereInProject(access);
  }

  async function load(tx: Kysely<Database>, access: RequestAccess, level: VariableScopeLevel, id: string, lock = false) {
    if (!isUuid(id)) throw notFound('Variable');
    const variable = await createVariablesRepo(tx).find(placeOf(access, level), id, lock);
    if (!variable) throw notFound('Variable');
    const visible = assignedVisibleTo(access, level);
    if (variable.assignee_user_id !== null && visible !== 'all' && variable.assignee_user_id !== visible) throw notFound('Variable');
    return variable;
  }

  async function loadLive(tx: Kysely<Database>, access: RequestAccess, level: VariableScopeLevel, id: string, lock = false) {
    const variable = await load(tx, access, level, id, lock);
    if (variable.deleted_at !== null) throw notFound('Variable');
    return variable;
  }

  async function finish<T>(organizationId: string, result: T): Promise<T> {
    await deps.changed(organizationId);
    return result;
  }

  return {
    /** Many creates and updates at one place, all or nothing (batch.ts). */
    batch: createVariablesBatch({ db, keyring, writes, changed: deps.changed }),

    async list(access: RequestAccess, level: VariableScopeLevel, cursor: string | undefined, limit: number) {
      const rows = await createVariablesRepo(db).list(placeOf(access, level), decodeCursorKey(cursor, ['string', 'string']), limit + 1, assignedVisibleTo(access, level));
      const keys = await keyring.byIds(db, rows.map((row) => row.data_key_id));
      const plaintexts = new Map(rows.map((row) => [row.id, openValue(keys.get(row.data_key_id)!, row, row.version, row.ciphertext!)]));
      const client = clientProjectOf(access, level) !== null;
      return toPage(rows, limit, listKeyOf, (row) => view(row, plaintexts.get(row.id)!, client));
    },

    async get(access: RequestAccess, level: VariableScopeLevel, id: string) {
      const variable = await loadLive(db, access, level, id);
      return view(variable, await decrypt(db, variable, variable.version, variable.ciphertext!), clientProjectOf(access, level) !== null);
    },

    async create(access: RequestAccess, level: VariableScopeLevel, input: CreateInput) {
      requireWrite(access, level);
      const client = clientProjectOf(access, level);
      if (client && input.type === 'pg_service') throw pgServiceRefusal(client);
      // A client value is ciphertext: its key, type and mount path are checked here, the envelope below.
      const content = contentOf({ ...input, type: input.type ?? 'plain', ...(client && input.value !== undefined ? { value: '' } : {}) });
      if (client) checkBoundVersion(input.version ?? 1, 1, content.name);
      else if (input.version !== undefined) throw invalid('body.version', 'is only for client-managed projects');
      const place = placeOf(access, level);
      const assignee = input.assignee_user_id ?? null;
      if (assignee !== null) {
        if (level !== 'project') throw invalid('body.assignee_user_id', 'only project variables can be assigned to a member');
        if (!(await createVariablesRepo(db).isMember(place.organizationId, assignee))) {
          throw invalid('body.assignee_user_id', 'is not a member of this organization');
        }
      }
      try {
        const created = await withAudit(db, access.audit, async (tx, note) => {
          await holdEncryption(tx, access, level);
          const repo = createVariablesRepo(tx);
          if (client) content.plaintext = checkClientValue(input.value, content.type, await currentKeyVersion(tx, client));
          const dataKey = await keyring.forOwner(tx, place.organizationId, place.projectId);
          const prepared = writes.prepareCreate(access, place, content, dataKey, { immutable: input.immutable ?? false, assignee, client: client !== null });
          const variable = await repo.insert(prepared.row);
          await repo.addVersion(prepared.version);
          note(prepared.event);
          return view(variable, content.plaintext, client !== null);
        });
        return await finish(place.organizationId, created);
      } catch (error) {
        throw translateConstraint(error, { [VARIABLE_CONSTRAINTS.liveName]: () => duplicate(content, assignee) });
      }
    },

    async update(access: RequestAccess, level: VariableScopeLevel, id: string, input: UpdateInput) {
      requireWrite(access, level);
      const place = placeOf(access, level);
      const client = clientProjectOf(access, level);
      if (!client && input.version !== undefined) throw invalid('body.version', 'is only for client-managed projects');
      const updated = await withAudit(db, access.audit, async (tx, note) => {
        await holdEncryption(tx, access, level);
        const repo = createVariablesRepo(tx);
        const current = await loadLive(tx, access, level, id, true);
        if (current.immutable) throw conflict(`${label(current)} is immutable: it can be deleted, never edited`, { field: 'body.immutable' });
        if (client) checkBoundVersion(input.version, current.version + 1, current.name);
        const clientValue = client ? checkClientValue(input.value, input.type ?? current.type, await currentKeyVersion(tx, client)) : undefined;
        const before = await decrypt(tx, current, current.version, current.ciphertext!);
        const dataKey = (await keyring.byIds(tx, [current.data_key_id])).get(current.data_key_id)!;
        const prepared = writes.prepareUpdate(access, level, current, before, input, dataKey, clientValue);
        const variable = await repo.setState(current.id, prepared.state);
        await repo.addVersion(prepared.version);
        note(prepared.event);
        return view(variable, prepared.plaintext, client !== null);
      });
      return finish(place.organizationId, updated);
    },

    async delete(access: RequestAccess, level: VariableScopeLevel, id: string) {
      requireWrite(access, level);
      const place = placeOf(access, level);
      await withAudit(db, access.audit, async (tx, note) => {
        const repo = createVariablesRepo(tx);
        const current = await loadLive(tx, access, level, id, true);
        const before = await decrypt(tx, current, current.version, current.ciphertext!);
        const version = current.version + 1;
        await repo.setState(current.id, { version, type: current.type, mount_path: current.mount_path, ciphertext: null });
        await repo.addVersion({ variable_id: current.id, version, operation: 'DELETE', type: current.type, mount_path: current.mount_path, ciphertext: null, rolled_back_from: null, ...actorOf(access) });
        const { place: where, target } = eventTarget(access, level, current.id, current.name);
        const shown = clientProjectOf(access, level) ? null : before;
        note({ event_type: 'DELETE', ...target, change: `Deleted ${label(current)} in ${where}`, details: { before: auditFields(place.organizationId, current, shown), version } });
      });
      await deps.changed(place.organizationId);
    },

    async versions(access: RequestAccess, level: VariableScopeLevel, id: string, cursor: string | undefined, limit: number) {
      const variable = await load(db, access, level, id);
      const before = decodeCursorKey(cursor, ['number'])?.[0];
      const rows = await createVariablesRepo(db).versions(variable.id, before, limit + 1);
      const shown = await Promise.all(
        rows.map(async (row) => ({ row, plaintext: row.ciphertext === null ? null : await decrypt(db, variable, row.version, row.ciphertext) })),
      );
      const client = clientProjectOf(access, level) !== null;
      return toPage(shown, limit, ({ row }) => [row.version], ({ row, plaintext }) => versionView(row, plaintext, client));
    },

    async rollback(access: RequestAccess, level: VariableScopeLevel, id: string, target: number) {
      requireWrite(access, level);
      const client = clientProjectOf(access, level);
      // The old ciphertext is bound to its own version: only a client can re-encrypt it for a new one.
      if (client) throw clientManagedRefusal(client, 're-encrypt an old version for a rollback (set the old value again with coffer vars set)');
      const place = placeOf(access, level);
      try {
        const restored = await withAudit(db, access.audit, async (tx, note) => {
          await holdEncryption(tx, access, level);
          const repo = createVariablesRepo(tx);
          const current = await load(tx, access, level, id, true);
          if (current.deleted_at === null && current.immutable) {
            throw conflict(`${label(current)} is immutable: it can be deleted, never edited`, { field: 'body.immutable' });
          }
          const old = target < current.version ? await repo.version(current.id, target) : undefined;
          if (!old) {
            throw invalid('body.version', current.version === 1 ? 'this variable has no earlier version' : `must be an earlier version of this variable (1 to ${current.version - 1})`);
          }
          if (old.ciphertext === null) throw invalid('body.version', `version ${target} is a deletion; roll back to a version that held a value`);
          const plaintext = await decrypt(tx, current, old.version, old.ciphertext);
          const version = current.version + 1;
          const dataKey = (await keyring.byIds(tx, [current.data_key_id])).get(current.data_key_id)!;
          const ciphertext = seal(dataKey, plaintext, valueAad(current.id, version));
          const variable = await repo.setState(current.id, { version, type: old.type, mount_path: old.mount_path, ciphertext });
          await repo.addVersion({ variable_id: current.id, version, operation: 'ROLLBACK', type: old.type, mount_path: old.mount_path, ciphertext, rolled_back_from: target, ...actorOf(access) });
          const before = current.ciphertext === null ? null : await decrypt(tx, current, current.version, current.ciphertext);
          const { place: where, target: named } = eventTarget(access, level, current.id, current.name);
          note({
            event_type: 'UPDATE',
            ...named,
            change: `${current.deleted_at === null ? 'Rolled back' : 'Restored'} ${label(variable)} in ${where} to version ${target}`,
            details: { before: auditFields(place.organizationId, current, before), after: auditFields(place.organizationId, variable, plaintext), version, rolled_back_from: target },
          });
          return view(variable, plaintext);
        });
        return await finish(place.organizationId, restored);
      } catch (error) {
        throw translateConstraint(error, { [VARIABLE_CONSTRAINTS.liveName]: () => conflict('Another live variable has taken this name since it was deleted: delete or rename that one first', { field: 'body.version' }) });
      }
    },
  };
}

function versionView(row: VariableVersion, plaintext: string | null, client: boolean) {
  return {
    version: row.version,
    operation: row.operation,
    type: row.type,
    ...shownValue(row.type, plaintext, client),
    mount_path: row.mount_path,
    rolled_back_from: row.rolled_back_from,
    actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
    created_at: row.created_at.toISOString(),
  };
}

export type VariablesService = ReturnType<typeof createVariablesService>;
