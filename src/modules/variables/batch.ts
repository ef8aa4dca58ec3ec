import type { Kysely } from 'kysely';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { Database, Variable, VariableScopeLevel } from '../../kernel/db/schema.js';
import { translateConstraint } from '../../kernel/db/errors.js';
import { AppError, conflict, invalid } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { withAudit, type AuditEventInput } from '../audit/recorder.js';
import { placeOf, requireWriteEverywhereInProject } from './place.js';
import { clientManagedRefusal, clientProjectOf, holdEncryption } from './client-values.js';
import { VARIABLE_CONSTRAINTS, createVariablesRepo } from './repo.js';
import { contentOf, type VariableContent } from './rules.js';
import { openValue } from './sealed-value.js';
import type { VariableWrites } from './writes.js';

export interface BatchInput {
  variables: { key: string; value: string; type?: 'plain' | 'secret' }[];
  dry_run?: boolean;
}

export interface BatchOutcome {
  dry_run: boolean;
  created: string[];
  updated: string[];
  unchanged: string[];
}

/** Thrown inside the transaction of a dry run once everything is written: it rolls it all back. */
class DryRun extends Error {}

/** An error about one item, with its field named inside the batch: `body.variables[500].key`. */
function about<T>(index: number, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (!(error instanceof AppError) || typeof error.details?.field !== 'string') throw error;
    const field = error.details.field.replace(/^body\./, `body.variables[${index}].`);
    if (error.code === 'VALIDATION_FAILED') throw invalid(field, String(error.details.reason));
    throw new AppError(error.code, error.message, { ...error.details, field });
  }
}

/**
 * Creates or updates many variables of one place in one transaction: all or nothing, each
 * change its own version and audit event, sealed, validated and refused exactly as one
 * write is (writes.ts). Values equal to the stored ones are left alone (compared here,
 * decrypted inside the transaction; only key names leave it). A dry run does every write
 * and rolls it back, so it answers what the real run would, refusals included.
 */
export function createVariablesBatch(deps: {
  db: Kysely<Database>;
  keyring: Keyring;
  writes: VariableWrites;
  changed: (organizationId: string) => Promise<void>;
}) {
  const { db, keyring, writes } = deps;

  return async function batch(access: RequestAccess, level: VariableScopeLevel, input: BatchInput): Promise<BatchOutcome> {
    // Every key of a batch is at the same place, so the route's secret:write check covers each of them.
    if (level === 'project') requireWriteEverywhereInProject(access);
    // A client-managed project's values are ciphertext bound to their versions: the client writes them one by one.
    const client = clientProjectOf(access, level);
    if (client) throw clientManagedRefusal(client, 'take a batch of values it would have to read (set them with coffer vars set, which encrypts each one)');
    const place = placeOf(access, level);
    const first = new Map<string, number>();
    const contents: VariableContent[] = input.variables.map((item, index) => {
      const earlier = first.get(item.key);
      if (earlier !== undefined) throw invalid(`body.variables[${index}].key`, `repeats the key of variables[${earlier}]: give each key once`);
      first.set(item.key, index);
      return about(index, () => contentOf({ key: item.key, type: item.type ?? 'plain', value: item.value }));
    });
    const outcome: BatchOutcome = { dry_run: input.dry_run === true, created: [], updated: [], unchanged: [] };
    try {
      await withAudit(db, access.audit, async (tx, note) => {
        await holdEncryption(tx, access, level);
        const repo = createVariablesRepo(tx);
        const existing = new Map<string, Variable>();
        for (const variable of await repo.sharedForUpdate(place, contents.map((content) => content.name))) if (variable.type !== 'pg_service') existing.set(variable.name, variable);
        const keys = await keyring.byIds(tx, [...new Set([...existing.values()].map((variable) => variable.data_key_id))]);
        const dataKey = await keyring.forOwner(tx, place.organizationId, place.projectId);
        const creates: ReturnType<VariableWrites['prepareCreate']>[] = [];
        const events: AuditEventInput[] = [];
        const versions = [];
        const states: Parameters<typeof repo.setStates>[0] = [];
        for (const [index, item] of input.variables.entries()) {
          const content = contents[index]!;
          const current = existing.get(content.name);
          if (!current) {
            const prepared = writes.prepareCreate(access, place, content, dataKey, { immutable: false, assignee: null });
            creates.push(prepared);
            versions.push(prepared.version);
            events.push(prepared.event);
            outcome.created.push(content.name);
            continue;
          }
          const key = keys.get(current.data_key_id)!;
          const before = openValue(key, current, current.version, current.ciphertext!);
          if (before === content.plaintext && (item.type ?? current.type) === current.type) {
            outcome.unchanged.push(content.name);
            continue;
          }
          const prepared = about(index, () => writes.prepareUpdate(access, level, current, before, { type: item.type, value: item.value }, key));
          states.push({ id: current.id, ...prepared.state });
          versions.push(prepared.version);
          events.push(prepared.event);
          outcome.updated.push(content.name);
        }
        await repo.insertMany(creates.map((prepared) => prepared.row));
        await repo.setStates(states);
        await repo.addVersions(versions);
        events.forEach(note);
        if (outcome.dry_run) throw new DryRun();
      });
    } catch (error) {
      if (!(error instanceof DryRun)) {
        throw translateConstraint(error, {
          [VARIABLE_CONSTRAINTS.liveName]: () => conflict('Another request created one of these keys here meanwhile: nothing was written; run the batch again', { field: 'body.variables' }),
        });
      }
    }
    if (!outcome.dry_run && outcome.created.length + outcome.updated.length > 0) await deps.changed(place.organizationId);
    return outcome;
  };
}

export type VariablesBatch = ReturnType<typeof createVariablesBatch>;
