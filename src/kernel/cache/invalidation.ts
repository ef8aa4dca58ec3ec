import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/**
 * Tells every instance that cached state is stale. Caches subscribe by topic and evict
 * the key they are told; when the channel may have lost messages (a dropped LISTEN
 * connection) every cache is flushed and `healthy` stays false until it is back, and
 * callers must then not trust their caches.
 */
export interface Invalidation {
  readonly healthy: boolean;
  publish(topic: string, key: string): Promise<void>;
  subscribe(topic: string, onKey: (key: string) => void, onReset: () => void): void;
  close(): Promise<void>;
}

class Subscribers {
  private readonly byTopic = new Map<string, { onKey: (key: string) => void; onReset: () => void }[]>();

  add(topic: string, onKey: (key: string) => void, onReset: () => void) {
    const list = this.byTopic.get(topic) ?? [];
    list.push({ onKey, onReset });
    this.byTopic.set(topic, list);
  }
  deliver(topic: string, key: string) {
    for (const subscriber of this.byTopic.get(topic) ?? []) subscriber.onKey(key);
  }
  reset() {
    for (const list of this.byTopic.values()) for (const subscriber of list) subscriber.onReset();
  }
}

/** One process owns the data (embedded PGlite holds a directory lock): delivery is a function call. */
export function createLocalInvalidation(): Invalidation {
  const subscribers = new Subscribers();
  return {
    healthy: true,
    async publish(topic, key) {
      subscribers.deliver(topic, key);
    },
    subscribe: (topic, onKey, onReset) => subscribers.add(topic, onKey, onReset),
    async close() {},
  };
}

const CHANNEL = 'coffer_invalidation';
const ACK_CHANNEL = 'coffer_invalidation_ack';
const LISTENER_NAME = 'coffer-listener';
const ACK_TIMEOUT_MS = 2000;

/**
 * Several instances on one PostgreSQL: NOTIFY on publish, LISTEN on a dedicated
 * connection. A publisher evicts its own caches at once, then waits until every other
 * instance listening on the same database has acknowledged (each acknowledges only after
 * evicting), so when the write's response is sent no instance can still answer from the
 * old state. Listeners are found in pg_stat_activity by their application_name; one that
 * does not answer within two seconds is logged and no longer waited for.
 */
export async function createPostgresInvalidation(url: string, log?: (message: string) => void): Promise<Invalidation> {
  // Loaded here: the embedded database never needs the PostgreSQL driver.
  const { default: pg } = await import('pg');
  const subscribers = new Subscribers();
  const instanceId = randomUUID();
  const publisher = new pg.Pool({ connectionString: url, max: 1 });
  publisher.on('error', () => {});
  let listener: pg.Client | undefined;
  let healthy = false;
  let closed = false;
  const waiting = new Map<string, { expected: Set<string> | undefined; acked: Set<string>; done: () => void }>();

  function settle(nonce: string) {
    const waiter = waiting.get(nonce);
    if (waiter?.expected && [...waiter.expected].every((id) => waiter.acked.has(id))) waiter.done();
  }

  async function connect(): Promise<void> {
    const client = new pg.Client({ connectionString: url, application_name: `${LISTENER_NAME} ${instanceId}` });
    client.on('notification', (message) => {
      if (!message.payload) return;
      if (message.channel === ACK_CHANNEL) {
        const [nonce, from] = message.payload.split(' ');
        const waiter = waiting.get(nonce!);
        if (waiter && from) {
          waiter.acked.add(from);
          settle(nonce!);
        }
        return;
      }
      if (message.channel !== CHANNEL) return;
      const { topic, key, nonce, from } = JSON.parse(message.payload) as { topic: string; key: string; nonce: string; from: string };
      if (from === instanceId) return; // delivered before it was sent
      subscribers.deliver(topic, key);
      // Evicted first, acknowledged second: the publisher may answer once it hears this.
      client.query('select pg_notify($1, $2)', [ACK_CHANNEL, `${nonce} ${instanceId}`]).catch(() => lost());
    });
    client.on('error', () => lost());
    client.on('end', () => lost());
    await client.connect();
    await client.query(`listen ${CHANNEL}; listen ${ACK_CHANNEL}`);
    listener = client;
    healthy = true;
  }

  function lost() {
    if (!healthy && listener === undefined) return;
    healthy = false;
    listener = undefined;
    subscribers.reset();
    if (closed) return;
    log?.('cache invalidation channel lost; caches bypassed until it reconnects');
    const retry = () =>
      connect()
        .then(() => {
          subscribers.reset(); // whatever was published while we were away is unknown
          log?.('cache invalidation channel reconnected');
        })
        .catch(() => setTimeout(retry, 1000).unref());
    setTimeout(retry, 100).unref();
  }

  await connect();

  return {
    get healthy() {
      return healthy;
    },
    async publish(topic, key) {
      subscribers.deliver(topic, key);
      const nonce = randomUUID();
      let timer: NodeJS.Timeout | undefined;
      const acknowledged = new Promise<void>((resolve) => {
        waiting.set(nonce, { expected: undefined, acked: new Set(), done: resolve });
        timer = setTimeout(resolve, ACK_TIMEOUT_MS);
      });
      try {
        // One round trip: send, and learn who is listening (acknowledgements may already be arriving).
        const result = await publisher.query<{ listeners: string[] }>(
          `select pg_notify($1, $2), array(
             select substr(application_name, length($3) + 2) from pg_stat_activity
             where datname = current_database() and application_name like $3 || ' %') as listeners`,
          [CHANNEL, JSON.stringify({ topic, key, nonce, from: instanceId }), LISTENER_NAME],
        );
        const waiter = waiting.get(nonce)!;
        waiter.expected = new Set(result.rows[0]!.listeners.filter((id) => id !== instanceId));
        settle(nonce);
        await acknowledged;
        const missing = [...waiter.expected].filter((id) => !waiter.acked.has(id));
        if (missing.length > 0) log?.(`cache invalidation not acknowledged within ${ACK_TIMEOUT_MS} ms by instance(s) ${missing.join(', ')}`);
      } finally {
        clearTimeout(timer);
        waiting.delete(nonce);
      }
    },
    subscribe: (topic, onKey, onReset) => subscribers.add(topic, onKey, onReset),
    async close() {
      closed = true;
      healthy = false;
      await listener?.end().catch(() => {});
      await publisher.end().catch(() => {});
    },
  };
}
