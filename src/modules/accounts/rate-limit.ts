/**
 * A fixed-window attempt counter per key (an email, an IP). In memory: each instance
 * limits on its own, which bounds guessing to N × limit across N instances.
 */
export interface AttemptLimiter {
  /** Seconds until the key may try again, or 0 when it may try now. */
  retryAfter(key: string): number;
  fail(key: string): void;
  reset(key: string): void;
}

export function createAttemptLimiter(options: { max: number; windowSeconds: number; now?: () => number }): AttemptLimiter {
  const now = options.now ?? Date.now;
  const windowMs = options.windowSeconds * 1000;
  const windows = new Map<string, { count: number; resetAt: number }>();

  const current = (key: string) => {
    const entry = windows.get(key);
    if (entry && entry.resetAt <= now()) {
      windows.delete(key);
      return undefined;
    }
    return entry;
  };

  return {
    retryAfter(key) {
      const entry = current(key);
      return entry && entry.count >= options.max ? Math.ceil((entry.resetAt - now()) / 1000) : 0;
    },
    fail(key) {
      const entry = current(key);
      if (entry) entry.count++;
      else windows.set(key, { count: 1, resetAt: now() + windowMs });
      // Bound memory under a spray of distinct keys: drop expired windows now and then.
      if (windows.size > 10_000) for (const k of [...windows.keys()]) current(k);
    },
    reset(key) {
      windows.delete(key);
    },
  };
}
