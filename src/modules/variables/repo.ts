import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { Database, Variable, VariableScopeLevel, VariableType, VariableVersion } from '../../kernel/db/schema.js';
import { invalid } from '../../kernel/errors.js';
import { columnNames, recordset, type RecordColumn } from '../../kernel/db/recordset.js';
import { isUuid } from '../../kernel/ids.js';
import type { NewVariable } from './writes.js';
import { recordVariableChange, recordVariableChanges } from '../changes/record.js';

/** Constraints whose violation the service answers in its own words (see translateConstraints). */
export const VARIABLE_CONSTRAINTS = { liveName: 'variables_live_name_idx' } as const;

/** The places a path's resolution reads variables from: its organization, project, environment, service, and the member's assigned ones. */
export interface PathIds {
  organizationId: string;
  projectId: string;
  environmentId: string;
  serviceId: string | null;
  memberId: string | null;
}

/**
 * The variables (deleted ones included) that reach an environment or one of its services: the
 * organization's, the project's, the environment's, the service's, and of those assigned to one
 * member, only that member's. Columns carry their table's name, so a query joining variables
 * to another table (vault's change count) can use it too.
 */
export function reachingPath(eb: ExpressionBuilder<Database, 'variables'>, ids: PathIds) {
  return eb.and([
    eb('variables.organization_id', '=', ids.organizationId),
    // Each arm names a project (none: the organization's own, as the table's scope check
    // says), so with statistics each is an index range of variables_placement_idx: `scope`
    // alone would read every variable of the organization, and a large one has 100,000.
    // Resolution reads through reachingQuery, whose plan needs no statistics.
    eb.or([
      eb.and([eb('variables.project_id', 'is', null), eb('variables.scope', '=', 'organization')]),
      eb.and([
        eb('variables.project_id', '=', ids.projectId),
        eb.or([
          eb('variables.scope', '=', 'project'),
          eb.and([eb('variables.scope', '=', 'environment'), eb('variables.environment_id', '=', ids.environmentId)]),
          ...(ids.serviceId === null ? [] : [eb.and([eb('variables.scope', '=', 'service'), eb('variables.service_id', '=', ids.serviceId)])]),
        ]),
      ]),
    ]),
    ids.memberId === null
      ? eb('variables.assignee_user_id', 'is', null)
      : eb.or([eb('variables.assignee_user_id', 'is', null), eb('variables.assignee_user_id', '=', ids.memberId)]),
  ]);
}

/**
 * Every live definition that reaches an environment (or one of its services), in one query:
 * the organization's, the project's, the environment's, the service's, and the member's
 * assigned ones. One arm per place, each naming every column of variables_placement_idx (the
 * table's scope check makes `scope` follow from which are null), so each is an index range
 * whatever the planner knows: embedded PGlite has no autovacuum, hence no statistics, and
 * planned from reachingPath's OR it read all 100,000 variables of a large organization to
 * keep 300 (issue #16).
 */
export function reachingQuery(db: Kysely<Database>, ids: PathIds) {
  const at = (projectId: string | null, environmentId: string | null, serviceId: string | null) =>
    db
      .selectFrom('variables')
      .select(['id', 'scope', 'type', 'name', 'mount_path', 'version', 'data_key_id', 'ciphertext', 'assignee_user_id'])
      .where('deleted_at', 'is', null)
      .where('organization_id', '=', ids.organizationId)
      .where('project_id', projectId === null ? 'is' : '=', projectId)
      .where('environment_id', environmentId === null ? 'is' : '=', environmentId)
      .where('service_id', serviceId === null ? 'is' : '=', serviceId);
  // Only project variables are ever assigned to a member (the table's check).
  const project = at(ids.projectId, null, null).where((eb) =>
    ids.memberId === null ? eb('assignee_user_id', 'is', null) : eb.or([eb('assignee_user_id', 'is', null), eb('assignee_user_id', '=', ids.memberId)]),
  );
  const query = at(null, null, null).unionAll(project).unionAll(at(ids.projectId, ids.environmentId, null));
  return ids.serviceId === null ? query : query.unionAll(at(ids.projectId, ids.environmentId, ids.serviceId));
}

/** Where a variable hangs: the scope level and the ids along its path. */
export interface PlaceIds {
  level: VariableScopeLevel;
  organizationId: string;
  projectId: string | null;
  environmentId: string | null;
  serviceId: string | null;
}

export interface VersionActor {
  actor_type: string;
  actor_id: string | null;
  actor_name: string;
}

/** The keyset of a listing: name then id. */
export type ListKey = readonly [name: string, id: string];
export const listKeyOf = (variable: Pick<Variable, 'name' | 'id'>): ListKey => [variable.name, variable.id];

/** The columns a batch writes (the others take their defaults), as recordset sends them. */
const VARIABLE_COLUMNS: RecordColumn[] = [
  ['id', 'uuid'], ['organization_id', 'uuid'], ['project_id', 'uuid'], ['environment_id', 'uuid'], ['service_id', 'uuid'],
  ['assignee_user_id', 'uuid'], ['scope', 'text'], ['type', 'text'], ['name', 'text'], ['mount_path', 'text'],
  ['immutable', 'boolean'], ['version', 'integer'], ['data_key_id', 'uuid'], ['ciphertext', 'bytea'],
];
const VERSION_COLUMNS: RecordColumn[] = [
  ['variable_id', 'uuid'], ['version', 'integer'], ['operation', 'text'], ['type', 'text'], ['mount_path', 'text'], ['ciphertext', 'bytea'],
  ['rolled_back_from', 'integer'], ['actor_type', 'text'], ['actor_id', 'uuid'], ['actor_name', 'text'],
];

type NewState = { id: string; version: number; type: VariableType; mount_path: string | null; ciphertext: Buffer };
const STATE_COLUMNS: RecordColumn[] = [['id', 'uuid'], ['version', 'integer'], ['type', 'text'], ['mount_path', 'text'], ['ciphertext', 'bytea']];

function rowOf(row: NewVariable) {
  const { place, ...values } = row;
  return {
    ...values,
    organization_id: place.organizationId,
    project_id: place.projectId,
    environment_id: place.environmentId,
    service_id: place.serviceId,
    scope: place.level,
    version: 1,
  };
}

export function createVariablesRepo(db: Kysely<Database>) {
  const atPlace = (place: PlaceIds) =>
    db
      .selectFrom('variables')
      .selectAll()
      .where('organization_id', '=', place.organizationId)
      .where('scope', '=', place.level)
      .where((eb) => (place.projectId === null ? eb('project_id', 'is', null) : eb('project_id', '=', place.projectId)))
      .where((eb) => (place.environmentId === null ? eb('environment_id', 'is', null) : eb('environment_id', '=', place.environmentId)))
      .where((eb) => (place.serviceId === null ? eb('service_id', 'is', null) : eb('service_id', '=', place.serviceId)));

  return {
    /** `assignedTo`: 'all', or the one member (null: none) whose assigned variables may be listed too. */
    list(place: PlaceIds, after: ListKey | undefined, limit: number, assignedTo: 'all' | string | null = 'all') {
      let query = atPlace(place).where('deleted_at', 'is', null);
      if (assignedTo !== 'all') {
        query = query.where((eb) =>
          assignedTo === null ? eb('assignee_user_id', 'is', null) : eb.or([eb('assignee_user_id', 'is', null), eb('assignee_user_id', '=', assignedTo)]),
        );
      }
      if (after !== undefined) {
        const [name, id] = after;
        // A cursor is opaque but arrives from outside: anything but what we issued is a 400, not a 500.
        if (!isUuid(id)) throw invalid('query.cursor', 'is not a cursor this API returned');
        query = query.where(sql<boolean>`(name collate "C", id) > (${name} collate "C", ${id}::uuid)`);
      }
      return query.orderBy(sql`name collate "C"`).orderBy('id').limit(limit).execute();
    },

    /** One variable at this place, live or deleted; `lock` holds it for the transaction. */
    find(place: PlaceIds, id: string, lock = false) {
      const query = atPlace(place).where('id', '=', id);
      return (lock ? query.forUpdate() : query).executeTakeFirst();
    },

    insert(row: NewVariable) {
      return db.insertInto('variables').values(rowOf(row)).returningAll().executeTakeFirstOrThrow();
    },

    /** Many new variables (a batch) in one statement, whatever their number (see recordset). */
    async insertMany(rows: NewVariable[]) {
      if (rows.length === 0) return;
      await db.insertInto('variables').columns(columnNames(VARIABLE_COLUMNS)).expression(recordset(VARIABLE_COLUMNS, rows.map(rowOf))).execute();
    },

    /** Many new versions (a batch) and their change records, like addVersion's. */
    async addVersions(rows: Omit<VariableVersion, 'created_at'>[]) {
      if (rows.length === 0) return;
      await db.insertInto('variable_versions').columns(columnNames(VERSION_COLUMNS)).expression(recordset(VERSION_COLUMNS, rows)).execute();
      await recordVariableChanges(db, rows);
    },

    /**
     * The live variables shared at this place (no member's own) among `names`, held for the
     * transaction: a batch compares against them. Only the batch's names: an import in parts
     * would otherwise read and lock the whole place again for each part.
     */
    sharedForUpdate(place: PlaceIds, names: string[]) {
      return atPlace(place)
        .where('deleted_at', 'is', null)
        .where('assignee_user_id', 'is', null)
        // One array parameter, whatever the number of names (a batch has up to 10,000).
        .where(sql<boolean>`name = any(${names}::text[])`)
        .forUpdate()
        .execute();
    },

    /** A new current state (an update, rollback, restore or delete), with its version number. */
    setState(id: string, state: { version: number; type: VariableType; mount_path: string | null; ciphertext: Buffer | null }) {
      return db
        .updateTable('variables')
        .set({ ...state, deleted_at: state.ciphertext === null ? new Date() : null, updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    /** New current states of many variables (a batch's updates) in one statement, as setState writes each. */
    async setStates(rows: NewState[]) {
      if (rows.length === 0) return;
      await db
        .updateTable('variables')
        .from(sql<NewState>`(${recordset(STATE_COLUMNS, rows)})`.as('r'))
        .set((eb) => ({
          version: eb.ref('r.version'),
          type: eb.ref('r.type'),
          mount_path: eb.ref('r.mount_path'),
          ciphertext: eb.ref('r.ciphertext'),
          deleted_at: null,
          updated_at: new Date(),
        }))
        .whereRef('variables.id', '=', 'r.id')
        .execute();
    },

    /** A new version and, in the same transaction, its change record and webhook deliveries (the outbox). */
    async addVersion(row: Omit<VariableVersion, 'created_at'>) {
      await db.insertInto('variable_versions').values(row).execute();
      await recordVariableChange(db, row);
    },

    versions(variableId: string, beforeVersion: number | undefined, limit: number) {
      let query = db.selectFrom('variable_versions').selectAll().where('variable_id', '=', variableId);
      if (beforeVersion !== undefined) query = query.where('version', '<', beforeVersion);
      return query.orderBy('version', 'desc').limit(limit).execute();
    },

    version(variableId: string, version: number) {
      return db.selectFrom('variable_versions').selectAll().where('variable_id', '=', variableId).where('version', '=', version).executeTakeFirst();
    },

    isMember(organizationId: string, userId: string) {
      return db
        .selectFrom('memberships')
        .select('user_id')
        .where('organization_id', '=', organizationId)
        .where('user_id', '=', userId)
        .executeTakeFirst()
        .then((row) => row !== undefined);
    },

    /** Every live definition that reaches an environment or one of its services (see reachingQuery). */
    reaching: (ids: PathIds) => reachingQuery(db, ids).execute(),

    servicesOf(environmentId: string) {
      return db.selectFrom('services').selectAll().where('environment_id', '=', environmentId).orderBy('slug').execute();
    },

    /** For a root-key rotation (rotate-root-key.ts), inside its transaction: the stored check value, locked. */
    rootKeyCheckForUpdate: (name: string) => db.selectFrom('coffer_settings').select('value').where('name', '=', name).forUpdate().executeTakeFirst(),

    /** Every data key, locked for a root-key rotation. */
    dataKeysForUpdate: () => db.selectFrom('data_keys').select(['id', 'wrapped']).orderBy('id').forUpdate().execute(),

    rewrapDataKey: (id: string, wrapped: Buffer, provider: string) =>
      db.updateTable('data_keys').set({ wrapped, provider, rotated_at: new Date() }).where('id', '=', id).execute(),

    storeRootKeyCheck: (name: string, value: Buffer) =>
      db
        .insertInto('coffer_settings')
        .values({ name, value })
        .onConflict((oc) => oc.column('name').doUpdateSet({ value, updated_at: new Date() }))
        .execute(),
  };
}
