import { isUuid } from '../../kernel/ids.js';
import type { Kysely } from 'kysely';
import type { AuditEvent, Database } from '../../kernel/db/schema.js';
import { invalid, notFound } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { decodeCursorKey, encodeCursor } from '../../kernel/http/pagination.js';
import { GENESIS_HASH, canonicalJson, chainHash } from './chain.js';
import type { SigningKey } from '../../kernel/crypto/signing-key.js';
import { recordAudit, type AuditEventInput } from './recorder.js';
import { enqueueDeployment } from '../webhooks/enqueue.js';
import type { AuditContext } from '../../kernel/http/audit-context.js';
import { createAuditRepo, type AuditFilters, type AuditRepo } from './repo.js';
import { keySetDigest, keySetOf, loadKeySets } from './key-sets.js';
import { requirePlatformEvent } from './platform-events.js';

const BATCH = 1000;

/** An event as the API shows it; a read event's key list, stored once apart, is shown in place. */
export function toEventView(event: AuditEvent, keySets?: ReadonlyMap<string, string[]>) {
  const keySet = keySetOf(event.details);
  const keys = keySet === undefined ? undefined : keySets?.get(keySet);
  return {
    id: event.id,
    seq: event.seq,
    occurred_at: event.occurred_at.toISOString(),
    event_type: event.event_type,
    target_type: event.target_type,
    target_id: event.target_id,
    target_name: event.target_name,
    change: event.change,
    actor: { type: event.actor_type, id: event.actor_id, name: event.actor_name },
    tool: event.tool,
    source_ip: event.source_ip,
    request_id: event.request_id,
    details: keys === undefined ? event.details : { ...event.details, keys },
    hash: event.hash.toString('hex'),
    prev_hash: event.prev_hash.toString('hex'),
  };
}
export type EventView = ReturnType<typeof toEventView>;

function cursorSeq(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const [seq] = decodeCursorKey(cursor, ['number'])!;
  if (seq < 1) throw invalid('query.cursor', 'is not a cursor this API returned');
  return seq;
}

export interface Checkpoint {
  organization: string;
  organization_id: string;
  sequence: number;
  head_hash: string;
  time: string;
}

export interface SignedCheckpoint {
  checkpoint: Checkpoint;
  signature: string;
}

/** `repo` defaults to the SQL one over `db`; a test may wrap it to act between its reads. */
export function createAuditService(deps: { db: Kysely<Database>; signingKey: SigningKey; repo?: AuditRepo }) {
  const keySetsOf = (organizationId: string, events: AuditEvent[]) =>
    loadKeySets(deps.db, organizationId, events.flatMap((event) => keySetOf(event.details) ?? []));
  const repo = deps.repo ?? createAuditRepo(deps.db);

  /** Does the current chain extend this checkpoint? Its signature must be ours and its head must still be there. */
  async function checkCheckpoint(organization: { id: string }, signed: SignedCheckpoint, chain: { first_seq: number; first_prev_hash: Buffer } | undefined) {
    const { checkpoint } = signed;
    if (!deps.signingKey.verify(canonicalJson(checkpoint), signed.signature)) return { ok: false, reason: 'the signature is not this server\'s' };
    if (checkpoint.organization_id !== organization.id) return { ok: false, reason: 'the checkpoint is of another organization' };
    if (checkpoint.sequence === 0) return { ok: true };
    if (chain && checkpoint.sequence === chain.first_seq - 1) {
      return chain.first_prev_hash.toString('hex') === checkpoint.head_hash
        ? { ok: true }
        : { ok: false, reason: 'the kept chain does not start where the checkpoint ended' };
    }
    if (chain && checkpoint.sequence < chain.first_seq) return { ok: false, reason: 'the checkpointed event was purged by retention; it can no longer be checked' };
    const [event] = await repo.ascending(organization.id, checkpoint.sequence, 1);
    if (!event || event.seq !== checkpoint.sequence) return { ok: false, reason: `event ${checkpoint.sequence} is missing from the chain` };
    if (event.hash.toString('hex') !== checkpoint.head_hash) return { ok: false, reason: `event ${checkpoint.sequence} no longer has the checkpointed hash` };
    return { ok: true };
  }

  return {
    async list(access: RequestAccess, filters: AuditFilters & { limit?: number; cursor?: string }) {
      const limit = filters.limit ?? 50;
      const rows = await repo.page(access.scope.organization.id, filters, cursorSeq(filters.cursor), limit + 1);
      const items = rows.slice(0, limit);
      const more = rows.length > limit;
      const keySets = await keySetsOf(access.scope.organization.id, items);
      return {
        items: items.map((event) => toEventView(event, keySets)),
        next_cursor: more ? encodeCursor([items.at(-1)!.seq]) : null,
      };
    },

    async get(access: RequestAccess, id: string) {
      const event = isUuid(id) ? await repo.byId(access.scope.organization.id, id) : undefined;
      if (!event) throw notFound('Audit event');
      return toEventView(event, await keySetsOf(access.scope.organization.id, [event]));
    },

    /** Every matching event, newest first, fetched in keyset batches: memory stays bounded. */
    async *stream(access: RequestAccess, filters: AuditFilters): AsyncGenerator<EventView> {
      let before: number | undefined;
      for (;;) {
        const rows = await repo.page(access.scope.organization.id, filters, before, BATCH);
        const keySets = await keySetsOf(access.scope.organization.id, rows);
        for (const row of rows) yield toEventView(row, keySets);
        if (rows.length < BATCH) return;
        before = rows.at(-1)!.seq;
      }
    },

    /**
     * Recomputes the chain from where it starts (after retention, the first kept event):
     * every seq present once in order, every prev_hash the previous hash, every hash
     * the hash of its own content. Names the first event that breaks it.
     */
    async verify(
      access: RequestAccess,
      checkpoints: SignedCheckpoint[] = [],
    ): Promise<{ ok: boolean; checked: number; first_bad_id?: string; reason?: string; checkpoints?: { sequence: number; ok: boolean; reason?: string }[] }> {
      const chainResult = await this.verifyChain(access);
      if (checkpoints.length === 0) return chainResult;
      const chain = await repo.chain(access.scope.organization.id);
      const results = [];
      for (const signed of checkpoints) {
        results.push({ sequence: signed.checkpoint.sequence, ...(await checkCheckpoint(access.scope.organization, signed, chain)) });
      }
      return { ...chainResult, ok: chainResult.ok && results.every((r) => r.ok), checkpoints: results };
    },

    /**
     * A signed statement of the chain's head now, to keep outside the database: a later
     * verify given it proves the log still extends it (a rewritten log cannot be re-signed).
     */
    checkpoint(access: RequestAccess): Promise<SignedCheckpoint & { public_key: string }> {
      return this.checkpointOf(access.scope.organization);
    },

    /** The key that signs checkpoints, for auditors who verify them offline. It outlives root-key rotations. */
    checkpointKey() {
      return {
        algorithm: 'Ed25519' as const,
        public_key: deps.signingKey.publicKeyPem(),
        signed_message: 'the checkpoint object as JSON with its keys sorted and no whitespace; signature is its Ed25519 signature in base64',
      };
    },

    async checkpointOf(organization: { id: string; slug: string }): Promise<SignedCheckpoint & { public_key: string }> {
      const chain = await repo.chain(organization.id);
      const checkpoint: Checkpoint = {
        organization: organization.slug,
        organization_id: organization.id,
        sequence: chain?.last_seq ?? 0,
        head_hash: (chain?.last_hash ?? GENESIS_HASH).toString('hex'),
        time: new Date().toISOString(),
      };
      return { checkpoint, signature: deps.signingKey.sign(canonicalJson(checkpoint)), public_key: deps.signingKey.publicKeyPem() };
    },

    /**
     * Verifies the chain up to its head as read when verification starts: events appended
     * meanwhile lie beyond that head and are left to the next verification, never taken
     * for a break.
     */
    async verifyChain(access: RequestAccess): Promise<{ ok: boolean; checked: number; first_bad_id?: string; reason?: string }> {
      const organizationId = access.scope.organization.id;
      const chain = await repo.chain(organizationId);
      if (!chain) return { ok: true, checked: 0 };
      let expectedSeq = chain.first_seq;
      let previous: Buffer = Buffer.from(chain.first_prev_hash ?? GENESIS_HASH);
      let checked = 0;
      for (;;) {
        const rows = await repo.ascending(organizationId, expectedSeq, BATCH, chain.last_seq);
        for (const row of rows) {
          const bad = (reason: string) => ({ ok: false, checked, first_bad_id: row.id, reason });
          if (row.seq !== expectedSeq) return bad(`sequence gap: expected ${expectedSeq}, found ${row.seq}`);
          if (!row.prev_hash.equals(previous)) return bad('prev_hash does not match the previous event');
          const { id: _id, hash, prev_hash: _prev, ...content } = row;
          if (!chainHash(content, previous).equals(hash)) return bad('content does not match its hash');
          previous = hash;
          expectedSeq += 1;
          checked += 1;
        }
        if (rows.length < BATCH || expectedSeq > chain.last_seq) break;
      }
      if (expectedSeq - 1 !== chain.last_seq || !previous.equals(chain.last_hash)) {
        return { ok: false, checked, reason: `the chain ends at ${expectedSeq - 1} but its head says ${chain.last_seq}` };
      }
      // Key lists stored apart are bound by the digest their events carry: each must still hash to it.
      for (const set of await repo.keySets(organizationId)) {
        if (keySetDigest(set.keys) === set.digest) continue;
        const event = await repo.firstWithKeySet(organizationId, set.digest);
        return { ok: false, checked, ...(event ? { first_bad_id: event.id } : {}), reason: `the key list ${set.digest} of a read event was altered` };
      }
      return { ok: true, checked };
    },

    /**
     * Retention (SPEC §6): removes events older than the organization's retention_days and
     * moves the chain's recorded start to the first kept event, so verification still
     * passes from there. Runs under the chain lock, like appends.
     */
    async purge(organizationId: string, retentionDays: number, now = new Date(), context?: AuditContext): Promise<{ purged: number }> {
      const cutoff = new Date(now.getTime() - retentionDays * 24 * 3600 * 1000);
      return deps.db.transaction().execute(async (tx) => {
        const txRepo = createAuditRepo(tx);
        const chain = await txRepo.chainForUpdate(organizationId);
        if (!chain) return { purged: 0 };
        const last = await txRepo.lastBefore(organizationId, cutoff);
        if (!last) return { purged: 0 };
        const purged = await txRepo.purgeThrough(organizationId, last);
        // Removing events is itself a change to the log: recorded in the same transaction.
        await recordAudit(tx, context ?? { organizationId, actor: { type: 'system', id: null, name: 'retention' }, tool: 'API', ip: null, requestId: null }, [
          {
            event_type: 'PURGE',
            target_type: 'audit_log',
            change: `Purged ${purged} audit events older than ${retentionDays} days (up to sequence ${last.seq})`,
            details: { purged, retention_days: retentionDays, up_to_seq: last.seq, cutoff: cutoff.toISOString() },
          },
        ]);
        return { purged };
      });
    },

    /** Applies every organization's retention; the server runs this hourly. */
    async purgeAll(): Promise<number> {
      const orgs = await repo.retentions();
      let purged = 0;
      for (const org of orgs) purged += (await this.purge(org.id, org.retention_days)).purged;
      return purged;
    },

    /** A platform records what it did (SPEC §6, audit:write); the actor is the caller. Only platform events. */
    async ingest(access: RequestAccess, event: AuditEventInput) {
      requirePlatformEvent(event.event_type);
      const [recorded] = await deps.db.transaction().execute(async (tx) => {
        const events = await recordAudit(tx, access.audit, [event]);
        // Webhooks hear deployments in the same transaction (the outbox): see webhooks/enqueue.ts.
        if (event.event_type === 'TRIGGER_DEPLOYMENT') await enqueueDeployment(tx, access.scope.organization, events[0]!);
        return events;
      });
      return toEventView(recorded!);
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
