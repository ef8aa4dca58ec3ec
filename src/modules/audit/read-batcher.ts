import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { AuditContext } from '../../kernel/http/audit-context.js';
import { appendIfHeadIs, appendToChain, type AuditEventInput, type ChainHead } from './recorder.js';

interface Pending {
  context: AuditContext;
  event: AuditEventInput;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for read events (READ_SECRET): Vault's rule is no audit, no answer, so a
 * read waits until its event is durable — but events arriving within `windowMs` share one
 * transaction (one multi-row insert per organization) instead of paying one commit each.
 */
export function createReadAuditBatcher(db: Kysely<Database>, options: { windowMs?: number; maxBatch?: number } = {}) {
  const windowMs = options.windowMs ?? 2;
  const maxBatch = options.maxBatch ?? 500;
  const pending: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  // One transaction at a time: while it commits, the next batch gathers, so batches grow
  // with load instead of queueing one after another on the chain's row lock.
  let inFlight = false;
  let flushes = 0;

  function schedule() {
    if (inFlight || pending.length === 0) return;
    if (pending.length >= maxBatch) {
      clearTimeout(timer);
      timer = undefined;
      void flush();
    } else {
      timer ??= setTimeout(() => {
        timer = undefined;
        void flush();
      }, windowMs);
    }
  }

  // Where each organization's chain ended after our last append: usually still true, so the
  // next batch is one statement; when not, appendIfHeadIs inserts nothing and we lock instead.
  const heads = new Map<string, ChainHead>();

  async function append(organizationId: string, items: Pending[]) {
    try {
      const known = heads.get(organizationId);
      let events = known ? await appendIfHeadIs(db, organizationId, items, known) : null;
      events ??= await db.transaction().execute((tx) => appendToChain(tx, organizationId, items));
      const last = events.at(-1)!;
      heads.set(organizationId, { seq: last.seq, hash: last.hash });
      for (const item of items) item.resolve();
    } catch (error) {
      heads.delete(organizationId);
      for (const item of items) item.reject(error);
    }
  }

  async function flush() {
    if (inFlight || pending.length === 0) return;
    inFlight = true;
    const batch = pending.splice(0, maxBatch);
    flushes += 1;
    try {
      const byOrganization = new Map<string, Pending[]>();
      for (const item of batch) {
        const list = byOrganization.get(item.context.organizationId) ?? [];
        list.push(item);
        byOrganization.set(item.context.organizationId, list);
      }
      // One append per organization, each event with its own actor, tool and request;
      // organizations are independent chains, so each is released when its own commits.
      await Promise.all([...byOrganization].map(([organizationId, items]) => append(organizationId, items)));
    } finally {
      inFlight = false;
      // What arrived during the commit has already waited a whole window: write it now.
      if (pending.length > 0) void flush();
    }
  }

  return {
    /** Resolves once the event is committed; rejects (and the read must fail) if it could not be. */
    record(context: AuditContext, event: AuditEventInput): Promise<void> {
      return new Promise((resolve, reject) => {
        pending.push({ context, event, resolve, reject });
        schedule();
      });
    },
    /** How many transactions were used so far (for tests and the benchmark). */
    get flushes() {
      return flushes;
    },
  };
}

export type ReadAuditBatcher = ReturnType<typeof createReadAuditBatcher>;
