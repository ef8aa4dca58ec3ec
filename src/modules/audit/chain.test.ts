import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHAINED_KEYS, GENESIS_HASH, canonicalJson, canonicalRow, chainHash, eventParts, type ChainedEvent } from './chain.js';
import { chainRows, type ChainItem } from './recorder.js';
import { CANONICAL, rowsAsJson } from './repo.js';

/** The definition canonicalJson must keep to, however it is optimised: sorted keys at every depth. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
}

describe('canonicalJson', () => {
  it('matches the sorted-keys definition for any JSON value, lists of strings included', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      expect(canonicalJson(value)).toBe(reference(value));
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.array(fc.string({ unit: 'binary' })), (keys) => {
      expect(canonicalJson({ keys })).toBe(reference({ keys }));
    }), { numRuns: 500 });
  });

  it('gives the same text whatever the order of object keys', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, 'x'] }, b: 1 }));
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });
});

const text = fc.string({ unit: 'binary' });
const optionalText = fc.option(text, { nil: null });
const details = fc.dictionary(text, fc.jsonValue()) as fc.Arbitrary<Record<string, unknown>>;
const events = fc.record({
  organization_id: text, seq: fc.nat(), occurred_at: fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(8.64e15) }),
  event_type: text, target_type: text, target_id: optionalText, target_name: optionalText, change: text,
  actor_type: text, actor_id: optionalText, actor_name: text, tool: text, source_ip: optionalText, request_id: optionalText, details,
}) as fc.Arbitrary<ChainedEvent>;

describe('the chain of read events', () => {
  it('hashes from canonical text built in the constant key order exactly as from canonicalJson of the whole event', () => {
    fc.assert(fc.property(events, (event) => {
      const built = canonicalRow(event, eventParts(event, canonicalJson(event.details)));
      expect(built).toBe(canonicalJson({ ...event, occurred_at: event.occurred_at.toISOString() }));
      // Every chained field, each once, in the listed order: a field added to events without the template fails here.
      expect(Object.keys(JSON.parse(built) as object)).toEqual(CHAINED_KEYS);
    }), { numRuns: 300 });
  });

  it('chainRows hashes each row as chainHash does, and rowsAsJson sends the same values with or without the kept canonical text', () => {
    const items = fc.array(fc.record({
      event: fc.record({ event_type: text, target_type: text, target_id: optionalText, target_name: optionalText, change: text, details }),
      context: fc.record({
        organizationId: text,
        actor: fc.record({ type: fc.constantFrom('user', 'token', 'system'), id: optionalText, name: text }),
        tool: fc.constantFrom('API', 'CLI'), ip: optionalText, requestId: optionalText,
      }),
    }), { minLength: 1, maxLength: 5 }) as fc.Arbitrary<ChainItem[]>;
    // The same input recorded by several requests (a cached resolution's event) is chained as often as any other.
    const withRepeats = items.map((list) => [...list, ...list.map((item, index) => ({ ...item, event: list[index % 2]?.event ?? item.event }))]);
    fc.assert(fc.property(withRepeats, fc.nat(), (list, seq) => {
      const rows = chainRows('org', list, { seq, hash: GENESIS_HASH });
      let previous: Buffer = GENESIS_HASH;
      rows.forEach((row, index) => {
        const { prev_hash, hash, details: _json, id: _id, ...rest } = row;
        expect(prev_hash.equals(previous)).toBe(true);
        expect(hash.equals(chainHash({ ...rest, details: list[index]!.event.details ?? {} }, prev_hash))).toBe(true);
        previous = hash;
      });
      const kept = JSON.parse(rowsAsJson(rows)) as unknown[];
      const plain = JSON.parse(rowsAsJson(rows.map(({ [CANONICAL]: _text, ...row }) => row))) as unknown[];
      expect(rows.every((row) => typeof row[CANONICAL] === 'string')).toBe(true);
      expect(kept).toEqual(plain);
    }), { numRuns: 200 });
  });
});

describe('a context that leaves a field undefined', () => {
  it('is stored and hashed as null, so the verifier (which hashes what the database gives back) agrees', () => {
    const context = { organizationId: 'org', actor: { type: 'system', id: undefined, name: 'coffer' }, tool: 'API', ip: undefined, requestId: undefined } as unknown as ChainItem['context'];
    const [row] = chainRows('org', [{ context, event: { event_type: 'PURGE', target_type: 'audit', change: 'Purged' } }], { seq: 0, hash: GENESIS_HASH });
    const { prev_hash, hash, details: _json, id: _id, ...rest } = row!;
    expect([rest.actor_id, rest.source_ip, rest.request_id, rest.target_id, rest.target_name]).toEqual([null, null, null, null, null]);
    expect(hash.equals(chainHash({ ...rest, details: {} }, prev_hash))).toBe(true);
  });
});
