import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { seal, valueAad } from '../../kernel/crypto/aead.js';
import { openValue } from './sealed-value.js';
import type { Database, Environment, Variable, VariableType, VariableVersion } from '../../kernel/db/schema.js';
import { ENVIRONMENT_TYPES } from '../../kernel/db/schema.js';
import { translateConstraint } from '../../kernel/db/errors.js';
import { AppError, conflict, invalid, notFound } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { resourceOf } from '../../kernel/authz/scope.js';
import { isUuid } from '../../kernel/ids.js';
import { decodeCursorKey, toPage } from '../../kernel/http/pagination.js';
import { withAudit } from '../audit/recorder.js';
import type { ValueHmac } from '../audit/value-hmac.js';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { PgServiceDefinition } from './pg-service.js';
import { VARIABLE_CONSTRAINTS, createVariablesRepo, listKeyOf, type PlaceIds } from './repo.js';
import { contentOf, isConcealed, type PgServiceInput, type VariableContent } from './rules.js';
import type { VariableScopeLevel } from '../../kernel/db/schema.js';
import { checkBoundVersion, checkClientValue, clientManagedRefusal, clientProjectOf, currentKeyVersion } from './client-values.js';
import { shownValue } from './shown-value.js';

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

export interface UpdateInput {
  type?: VariableType;
  value?: string;
  pg_service?: PgServiceInput;
  mount_path?: string | null;
  version?: number;
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** The place a request's path names, at the level its route manages (the resource its route declares). */
export function placeOf(access: RequestAccess, level: VariableScopeLevel): PlaceIds {
  const place = resourceOf(access.scope, level);
  return {
    level,
    organizationId: place.organization.id,
    projectId: place.kind === 'organization' ? null : place.project.id,
    environmentId: place.kind === 'environment' || place.kind === 'service' ? place.environment.id : null,
    serviceId: place.kind === 'service' ? place.service.id : null,
  };
}

/** What an audit event about a variable names: the place, and the variable in it ("shop/production:API_KEY"). */
function eventTarget(access: RequestAccess, level: VariableScopeLevel, id: string, name: string) {
  const place = placeName(access, level);
  return { place, target: { target_type: 'variable', target_id: id, target_name: `${place}:${name}` } };
}

function placeName(access: RequestAccess, level: VariableScopeLevel): string {
  const place = resourceOf(access.scope, level);
  switch (place.kind) {
    case 'organization':
      return `organization ${place.organization.slug}`;
    case 'project':
      return place.project.slug;
    case 'environment':
      return `${place.project.slug}/${place.environment.slug}`;
    case 'service':
      return `${place.project.slug}/${place.environment.slug}/${place.service.slug}`;
  }
}

/**
 * Writing a project variable reaches every environment of the project, so it needs
 * secret:write on every environment type there, not only on one (the route checks "some").
 * Organization variables are checked the same way by the evaluator itself.
 */
function typesMissingWrite(access: RequestAccess): string[] {
  const { organization, project } = resourceOf(access.scope, 'project');
  const now = new Date();
  return ENVIRONMENT_TYPES.filter((type) => {
    const environment: Environment = { id: NIL_UUID, project_id: project.id, slug: '', name: '', type, cluster_id: null, created_at: now, updated_at: now };
    return !access.can('secret:write', { kind: 'environment', organization, project, environment });
  });
}

/**
 * A member's assigned variables are theirs: listed to them, and to whoever manages the
 * project's variables (secret:write on every environment type), to nobody else.
 */
function assignedVisibleTo(access: RequestAccess, level: VariableScopeLevel): 'all' | string | null {
  if (level !== 'project' || typesMissingWrite(access).length === 0) return 'all';
  return access.principal.kind === 'user' ? access.principal.user.id : null;
}

function requireWriteEverywhereInProject(access: RequestAccess): void {
  const { organization, project } = resourceOf(access.scope, 'project');
  const missing = typesMissingWrite(access);
  if (missing.length > 0) {
    access.refuse('secret:write', { kind: 'project', organization, project }, new AppError(
      'FORBIDDEN',
      `Project variables reach every environment of ${project.slug}: they need secret:write on ${missing.join(', ')} environments too`,
      { action: 'secret:write', environment_types: missing },
    ));
  }
}

export function createVariablesService(deps: {
  db: Kysely<Database>;
  keyring: Keyring;
  valueHmac: ValueHmac;
  /** Called after a committed change, before its response: resolution caches drop the organization. */
  changed: (organizationId: string) => Promise<void>;
}) {
  const { db, keyring } = deps;

  async function decrypt(tx: Kysely<Database>, variable: Pick<Variable, 'id' | 'name' | 'data_key_id'>, version: number, ciphertext: Buffer): Promise<string> {
    const keys = await keyring.byIds(tx, [variable.data_key_id]);
    return openValue(keys.get(variable.data_key_id)!, variable, version, ciphertext);
  }

  const view = (variable: Variable, plaintext: string | null, client = false) => ({
    id: variable.id,
    scope: variable.scope,
    key: variable.type === 'pg_service' ? null : variable.name,
    type: variable.type,
    ...shownValue(variable.type, plaintext, client),
    mount_path: variable.mount_path,
    immutable: variable.immutable,
    version: variable.version,
    assignee_user_id: variable.assignee_user_id,
    created_at: variable.created_at.toISOString(),
    updated_at: variable.updated_at.toISOString(),
  });

  /** The audit view of a state: plain values in clear, others as an HMAC only. */
  const auditFields = (organizationId: string, variable: Pick<Variable, 'name' | 'type' | 'mount_path' | 'scope' | 'immutable' | 'assignee_user_id'>, plaintext: string | null) => ({
    [variable.type === 'pg_service' ? 'service' : 'key']: variable.name,
    type: variable.type,
    scope: variable.scope,
    mount_path: variable.mount_path,
    immutable: variable.immutable,
    assignee_user_id: variable.assignee_user_id,
    ...(plaintext === null ? {} : isConcealed(variable.type) ? { value_hmac: deps.valueHmac(organizationId, plaintext) } : { value: plaintext }),
  });

  const label = (variable: Pick<Variable, 'type' | 'name'>) =>
    variable.type === 'pg_service' ? `pg_service ${variable.name}` : `${variable.type === 'plain' ? 'variable' : variable.type} ${variable.name}`;

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

  const actorOf = (access: RequestAccess) => ({
    actor_type: access.audit.actor.type,
    actor_id: access.audit.actor.id,
    actor_name: access.audit.actor.name,
  });

  async function finish<T>(organizationId: string, result: T): Promise<T> {
    await deps.changed(organizationId);
    return result;
  }

  return {
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
      if (client && input.type === 'pg_service') throw invalid('body.type', 'pg_service entries are not yet supported in client-managed projects');
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
          const repo = createVariablesRepo(tx);
          if (client) content.plaintext = checkClientValue(input.value, content.type, await currentKeyVersion(tx, client));
          const dataKey = await keyring.forOwner(tx, place.organizationId, place.projectId);
          const id = randomUUID();
          const ciphertext = seal(dataKey.key, content.plaintext, valueAad(id, 1));
          const variable = await repo.insert({
            id,
            place,
            assignee_user_id: assignee,
            type: content.type,
            name: content.name,
            mount_path: content.mountPath,
            immutable: input.immutable ?? false,
            data_key_id: dataKey.id,
            ciphertext,
          });
          await repo.addVersion({ variable_id: id, version: 1, operation: 'CREATE', type: content.type, mount_path: content.mountPath, ciphertext, rolled_back_from: null, ...actorOf(access) });
          const { place: where, target } = eventTarget(access, level, id, content.name);
          const change = `Created ${label(variable)} in ${where}${assignee ? ' for one member' : ''}`;
          note({ event_type: 'CREATE', ...target, change, details: { after: auditFields(place.organizationId, variable, client ? null : content.plaintext) } });
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
        const repo = createVariablesRepo(tx);
        const current = await loadLive(tx, access, level, id, true);
        if (current.immutable) throw conflict(`${label(current)} is immutable: it can be deleted, never edited`, { field: 'body.immutable' });
        if (client) checkBoundVersion(input.version, current.version + 1, current.name);
        const type = input.type ?? current.type;
        if ((type === 'pg_service') !== (current.type === 'pg_service')) {
          throw invalid('body.type', 'a pg_service entry cannot become another type, nor the reverse: delete it and create the other');
        }
        const before = await decrypt(tx, current, current.version, current.ciphertext!);
        if (isConcealed(current.type) && type === 'plain' && input.value === undefined) {
          // Otherwise anyone allowed to write could read a secret back by declassifying it.
          throw invalid('body.value', `making a ${current.type} plain needs a new value in the same request`);
        }
        const content =
          type === 'pg_service'
            ? contentOf({
                type,
                mount_path: input.mount_path,
                ...(input.pg_service || input.value !== undefined ? { pg_service: input.pg_service, value: input.value } : { pg_service: JSON.parse(before) as PgServiceDefinition }),
              })
            : contentOf({
                type,
                key: current.name,
                value: client ? '' : (input.value ?? before),
                mount_path: input.mount_path !== undefined ? input.mount_path : type === 'file' ? current.mount_path : null,
              });
        if (content.name !== current.name) {
          throw invalid('body.pg_service.service', 'the service name identifies the entry and cannot change: delete it and create another');
        }
        if (client) content.plaintext = checkClientValue(input.value, content.type, await currentKeyVersion(tx, client));
        const version = current.version + 1;
        const dataKey = (await keyring.byIds(tx, [current.data_key_id])).get(current.data_key_id)!;
        const ciphertext = seal(dataKey, content.plaintext, valueAad(current.id, version));
        const variable = await repo.setState(current.id, { version, type: content.type, mount_path: content.mountPath, ciphertext });
        await repo.addVersion({ variable_id: current.id, version, operation: 'UPDATE', type: content.type, mount_path: content.mountPath, ciphertext, rolled_back_from: null, ...actorOf(access) });
        const beforeFields = auditFields(place.organizationId, current, client ? null : before);
        const afterFields = auditFields(place.organizationId, variable, client ? null : content.plaintext);
        const { place: where, target } = eventTarget(access, level, current.id, current.name);
        note({ event_type: 'UPDATE', ...target, change: `Updated ${label(variable)} in ${where}`, details: { before: beforeFields, after: afterFields, version } });
        return view(variable, content.plaintext, client !== null);
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
