import { describe, expect, it } from 'vitest';
import { eventId } from './event-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('eventId', () => {
  it('is a version 7 UUID whose first 48 bits are the milliseconds given', () => {
    const now = Date.UTC(2026, 11, 2, 15, 4, 5, 678);
    for (let i = 0; i < 2_000; i += 1) {
      const id = eventId(now);
      expect(id).toMatch(UUID_V7);
      expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
    }
  });

  it('sorts as text in time order, and ids drawn across refills of the random pool are distinct', () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => eventId(1_700_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    const sameMillisecond = Array.from({ length: 5_000 }, () => eventId(1_700_000_000_000));
    expect(new Set(sameMillisecond).size).toBe(sameMillisecond.length);
  });
});
