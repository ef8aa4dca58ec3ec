import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { AuditContext } from '../../kernel/http/audit-context.js';
import { appendRowsIfHeadIs, appendToChain, chainRows, type AuditEventInput, type ChainHead } from './recorder.js';

interface Pending {
  context: AuditContext;
  event: AuditEventInput;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** One organization's chain as this batcher sees it. */
interface Chain {
  /** Where the chain ends once every batch sent so far has committed; undefined when not known. */
  expected: ChainHead | undefined;
  /** Settles when the last batch sent has: with the head it left, or null when it failed. */
  tail: Promise<ChainHead | null>;
  settled: boolean;
}

const sameHead = (a: ChainHead | null, b: ChainHead) => a !== null && a.seq === b.seq && a.hash.equals(b.hash);

/**
 * Group commit for read events (READ_SECRET): Vault's rule is no audit, no answer, so a
 * read waits until its event is durable — but events arriving together share one statement
 * (one multi-row insert per organization) instead of paying one commit each. With no batch
 * committing (a quiet server), the events of one turn of the event loop go at once; while
 * one commits, events gather until it is done (with more than one in flight allowed, for
 * `windowMs` while a slot is free), so that under load batches stay large: a statement has
 * a fixed cost.
 *
 * One batch commits at a time by default: what arrives meanwhile goes in the next one. The
 * chain's head row serialises an organization's batches anyway, so more in flight only made
 * each smaller, and PostgreSQL pays per statement — measured on PostgreSQL (bench/resolve.mjs,
 * two alternated runs each): 4 in flight, 10–12 events a batch, 155–243 µs of PostgreSQL CPU
 * per read, 2,100–2,900 reads/s; 1 in flight, 15–25 events, 111–124 µs, 3,200–3,800 reads/s.
 *
 * With `maxInFlight` above one, up to that many batches commit at once. The chain stays one
 * line: each batch is hashed in memory from where the batch before it will leave the chain,
 * and its statement inserts only if the head row is exactly there — so it commits after that
 * batch (on PostgreSQL it waits for that row's lock) or not at all. A batch that could not (it ran before the earlier one reached the
 * row, the earlier one failed, or another writer moved the head) waits for every earlier
 * batch to settle and appends under the head row's lock, hashing again from the real head.
 * A batch that fails fails its own reads only.
 */
export function createReadAuditBatcher(db: Kysely<Database>, options: { windowMs?: number; maxBatch?: number; maxInFlight?: number } = {}) {
  const windowMs = options.windowMs ?? 2;
  const maxBatch = options.maxBatch ?? 500;
  const maxInFlight = options.maxInFlight ?? 1;
  const pending: Pending[] = [];
  const chains = new Map<string, Chain>();
  let timer: NodeJS.Timeout | undefined;
  let soon = false;
  let inFlight = 0;
  let flushes = 0;
  let locked = 0;

  function schedule() {
    if (pending.length === 0 || inFlight >= maxInFlight) return;
    if (pending.length >= maxBatch || (inFlight === 0 && !soon)) {
      // Nothing committing: no batch to wait for, so no reason to wait a window. The events
      // of this turn of the event loop go together (setImmediate runs after its I/O callbacks).
      clearTimeout(timer);
      timer = undefined;
      if (pending.length >= maxBatch) flush();
      else {
        soon = true;
        setImmediate(() => {
          soon = false;
          flush();
        });
      }
    } else if (!soon) {
      // A batch is committing: gather for a window.
      timer ??= setTimeout(() => {
        timer = undefined;
        flush();
      }, windowMs);
    }
  }

  /** Sends one organization's events after the batches already sent for it; settles when they are durable or failed. */
  function send(organizationId: string, items: Pending[]): Promise<void> {
    let chain = chains.get(organizationId);
    if (!chain) chains.set(organizationId, (chain = { expected: undefined, tail: Promise.resolve(null), settled: true }));
    const previous = chain.tail;
    const racing = !chain.settled;
    const from = chain.expected;
    const rows = from ? chainRows(organizationId, items, from) : undefined;
    const after = rows ? { seq: rows.at(-1)!.seq, hash: rows.at(-1)!.hash } : undefined;

    const outcome = (async (): Promise<ChainHead> => {
      if (from && rows && after) {
        if (await appendRowsIfHeadIs(db, organizationId, rows, from)) return after;
        // Sent while the batch before was committing, it may have reached the head row first: once more after it.
        if (racing && sameHead(await previous, from) && (await appendRowsIfHeadIs(db, organizationId, rows, from))) return after;
      }
      await previous;
      locked += 1;
      const events = await db.transaction().execute((tx) => appendToChain(tx, organizationId, items));
      const last = events.at(-1)!;
      return { seq: last.seq, hash: last.hash };
    })();

    const tail = outcome.then(
      (head) => head,
      () => null,
    );
    chain.tail = tail;
    chain.expected = after;
    chain.settled = false;
    const current = chain;
    void tail.then((head) => {
      if (current.tail !== tail) return; // a later batch was sent meanwhile: its outcome decides
      current.settled = true;
      current.expected = head ?? undefined;
    });
    return outcome.then(
      () => {
        for (const item of items) item.resolve();
      },
      (error: unknown) => {
        for (const item of items) item.reject(error);
      },
    );
  }

  function flush() {
    if (pending.length === 0 || inFlight >= maxInFlight) return;
    clearTimeout(timer);
    timer = undefined;
    const batch = pending.splice(0, maxBatch);
    flushes += 1;
    inFlight += 1;
    const byOrganization = new Map<string, Pending[]>();
    for (const item of batch) {
      const list = byOrganization.get(item.context.organizationId);
      if (list) list.push(item);
      else byOrganization.set(item.context.organizationId, [item]);
    }
    // One append per organization, each event with its own actor, tool and request;
    // organizations are independent chains, so each is released when its own commits.
    void Promise.all([...byOrganization].map(([organizationId, items]) => send(organizationId, items))).finally(() => {
      inFlight -= 1;
      // What waited for a free slot has already waited a whole window: send it now. Not
      // sooner otherwise: a statement costs PostgreSQL ~0.7 ms of CPU whatever its size
      // (measured for issue #16), so under load the window keeps batches large.
      if (pending.length > 0 && timer === undefined && !soon) flush();
      else schedule();
    });
    schedule();
  }

  return {
    /** Resolves once the event is committed; rejects (and the read must fail) if it could not be. */
    record(context: AuditContext, event: AuditEventInput): Promise<void> {
      return new Promise((resolve, reject) => {
        pending.push({ context, event, resolve, reject });
        schedule();
      });
    },
    /** How many batches were sent so far (for tests and the benchmark). */
    get flushes() {
      return flushes;
    },
    /** How many organization batches were appended under the head row's lock rather than from the remembered head. */
    get locked() {
      return locked;
    },
  };
}

export type ReadAuditBatcher = ReturnType<typeof createReadAuditBatcher>;
