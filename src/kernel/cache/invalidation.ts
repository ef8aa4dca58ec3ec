import pg from 'pg';

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

/**
 * Several instances on one PostgreSQL: NOTIFY on publish, LISTEN on a dedicated
 * connection. A publisher evicts its own caches at once, before the round trip.
 */
export async function createPostgresInvalidation(url: string, log?: (message: string) => void): Promise<Invalidation> {
  const subscribers = new Subscribers();
  const publisher = new pg.Pool({ connectionString: url, max: 1 });
  publisher.on('error', () => {});
  let listener: pg.Client | undefined;
  let healthy = false;
  let closed = false;

  async function connect(): Promise<void> {
    const client = new pg.Client({ connectionString: url });
    client.on('notification', (message) => {
      if (message.channel !== CHANNEL || !message.payload) return;
      const { topic, key } = JSON.parse(message.payload) as { topic: string; key: string };
      subscribers.deliver(topic, key);
    });
    client.on('error', () => lost());
    client.on('end', () => lost());
    await client.connect();
    await client.query(`listen ${CHANNEL}`);
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
      await publisher.query('select pg_notify($1, $2)', [CHANNEL, JSON.stringify({ topic, key })]);
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
