import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { seal, valueAad } from '../../kernel/crypto/aead.js';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { Database, Variable, VariableScopeLevel, VariableType, VariableVersion } from '../../kernel/db/schema.js';
import { conflict, invalid } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import type { AuditEventInput } from '../audit/recorder.js';
import type { ValueHmac } from '../audit/value-hmac.js';
import { eventTarget } from './place.js';
import { shownValue } from './shown-value.js';
import type { PgServiceDefinition } from './pg-service.js';
import type { PlaceIds } from './repo.js';
import { contentOf, isConcealed, type PgServiceInput, type VariableContent } from './rules.js';
import { openValue } from './sealed-value.js';

export interface UpdateInput {
  type?: VariableType;
  value?: string;
  pg_service?: PgServiceInput;
  mount_path?: string | null;
  /** Client-managed projects: the version the ciphertext is bound to (the one this update creates). */
  version?: number;
}

/** A variable row as the repo inserts it. */
export interface NewVariable {
  id: string;
  place: PlaceIds;
  assignee_user_id: string | null;
  type: VariableType;
  name: string;
  mount_path: string | null;
  immutable: boolean;
  data_key_id: string;
  ciphertext: Buffer;
}

type Audited = Pick<Variable, 'name' | 'type' | 'mount_path' | 'scope' | 'immutable' | 'assignee_user_id'>;

/**
 * What a create or an update writes (row, version, audit event), prepared without I/O so that
 * one write (service.ts) and a batch of them (batch.ts) seal, version and audit alike.
 */
export function createVariableWrites(deps: { keyring: Keyring; valueHmac: ValueHmac }) {
  const { keyring } = deps;

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
  const auditFields = (organizationId: string, variable: Audited, plaintext: string | null) => ({
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

  const actorOf = (access: RequestAccess) => ({
    actor_type: access.audit.actor.type,
    actor_id: access.audit.actor.id,
    actor_name: access.audit.actor.name,
  });

  /** A new variable sealed under `dataKey`, its first version and its CREATE event. */
  function prepareCreate(
    access: RequestAccess,
    place: PlaceIds,
    content: VariableContent,
    dataKey: { id: string; key: Buffer },
    // client: the value is a client-managed project's ciphertext, which audit events never carry.
    options: { immutable: boolean; assignee: string | null; client?: boolean },
  ): { row: NewVariable; version: Omit<VariableVersion, 'created_at'>; event: AuditEventInput } {
    const id = randomUUID();
    const ciphertext = seal(dataKey.key, content.plaintext, valueAad(id, 1));
    const row: NewVariable = {
      id,
      place,
      assignee_user_id: options.assignee,
      type: content.type,
      name: content.name,
      mount_path: content.mountPath,
      immutable: options.immutable,
      data_key_id: dataKey.id,
      ciphertext,
    };
    const version = { variable_id: id, version: 1, operation: 'CREATE' as const, type: content.type, mount_path: content.mountPath, ciphertext, rolled_back_from: null, ...actorOf(access) };
    const { place: where, target } = eventTarget(access, place.level, id, content.name);
    const change = `Created ${label(row)} in ${where}${options.assignee ? ' for one member' : ''}`;
    const audited = { ...row, scope: place.level };
    return { row, version, event: { event_type: 'CREATE', ...target, change, details: { after: auditFields(place.organizationId, audited, options.client ? null : content.plaintext) } } };
  }

  /**
   * The next version of `current` (whose value is `before`) with `input` applied, sealed under
   * its data key: refused when immutable, when it would change kind, or rename a pg_service entry.
   * `clientValue`: a client-managed project's checked ciphertext, stored as is and never audited.
   */
  function prepareUpdate(access: RequestAccess, level: VariableScopeLevel, current: Variable, before: string, input: UpdateInput, dataKey: Buffer, clientValue?: string) {
    const client = clientValue !== undefined;
    if (current.immutable) throw conflict(`${label(current)} is immutable: it can be deleted, never edited`, { field: 'body.immutable' });
    const type = input.type ?? current.type;
    if ((type === 'pg_service') !== (current.type === 'pg_service')) {
      throw invalid('body.type', 'a pg_service entry cannot become another type, nor the reverse: delete it and create the other');
    }
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
    if (client) content.plaintext = clientValue;
    const version = current.version + 1;
    const ciphertext = seal(dataKey, content.plaintext, valueAad(current.id, version));
    const state = { version, type: content.type, mount_path: content.mountPath, ciphertext };
    const versionRow = { variable_id: current.id, ...state, operation: 'UPDATE' as const, rolled_back_from: null, ...actorOf(access) };
    const organizationId = current.organization_id;
    const after = { ...current, type: content.type, mount_path: content.mountPath };
    const { place: where, target } = eventTarget(access, level, current.id, current.name);
    const event: AuditEventInput = {
      event_type: 'UPDATE',
      ...target,
      change: `Updated ${label(after)} in ${where}`,
      details: { before: auditFields(organizationId, current, client ? null : before), after: auditFields(organizationId, after, client ? null : content.plaintext), version },
    };
    return { state, version: versionRow, event, plaintext: content.plaintext };
  }

  return { decrypt, view, auditFields, label, actorOf, prepareCreate, prepareUpdate };
}

export type VariableWrites = ReturnType<typeof createVariableWrites>;
