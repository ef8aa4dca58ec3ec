import type { Random } from './random.js';

/** JSON text placed verbatim in a body: numbers JSON.stringify cannot write (1e309), deep nesting. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Serialises a body that may hold RawJson pieces; iterative pieces stay flat, so depth is the text's. */
export function toJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const UUID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const b64 = (text: string) => Buffer.from(text).toString('base64url');

/** The kinds of hostile value the review used, as strings (what a path, query or JSON string can carry). */
export function hostileStrings(real: { uuid?: string } = {}): Record<string, string[]> {
  const uuid = real.uuid ?? UUID;
  return {
    nul: ['\u0000', `a\u0000b`, `shop\u0000`, `${uuid}\u0000`],
    surrogate: ['\ud800', `x\udc00y`, '\udfff\ud800', `${uuid}\ud800`],
    huge: ['a'.repeat(70_000), 'é'.repeat(40_000), 'x'.repeat(300)],
    empty: ['', ' ', '\t', '\n'],
    dots: ['..', '.', '%2e%2e', '../..', '..%2f..', '/etc/passwd', 'a/b', 'a\\b'],
    lookalike: ['ѕhop', 'ｓｈｏｐ', 'SHOP', 'shop\u200b', '\u202eevil', '😀', 'ß', 'ﬁ', 'İ'],
    uuid: [`urn:uuid:${uuid}`, `URN:UUID:${uuid}`, uuid.toUpperCase(), `{${uuid}}`, uuid.replace(/-/g, ''), '00000000-0000-0000-0000-000000000000', `${uuid}x`, `${uuid.slice(0, 35)}g`],
    time: [
      '2016-12-31T23:59:60Z', '2024-06-30T23:59:60.999Z', '1990-12-31T15:59:60-08:00', '0000-01-01T00:00:00Z',
      '9999-12-31T23:59:59-23:59', '2024-02-29t00:00:00z', '2024-01-01 00:00:00Z', '2024-02-30T00:00:00Z',
      '+275760-09-13T00:00:00Z', '2024-01-01T00:00:00.123456789123Z', '2024-01-01T24:00:00Z', '1969-12-31T23:59:59Z',
    ],
    number: ['Infinity', '-Infinity', 'NaN', '1e309', '-1e309', '-1', '0', '1.5', '9007199254740993', '0x10', '1e3', '00001', '-0'],
    cursor: [
      b64('["\u0000"]'), b64('["\ud800"]'), b64('[123]'), b64('{}'), b64('null'), b64('"x"'), b64('["2024-13-45T00:00:00Z"]'),
      b64(`["urn:uuid:${uuid}"]`), b64('["not-a-uuid"]'), b64('["1e309"]'), b64('["Infinity"]'), b64('["-1"]'), b64('0'), b64('-5'),
      b64('1e309'), b64('9007199254740993'), b64('["2016-12-31T23:59:60Z"]'), b64(`["${'z'.repeat(300)}"]`), b64('["a|b|c"]'),
      '!!!', '====', 'AAAA', '\u0000', b64(JSON.stringify([uuid])), b64('[[]]'), b64('["",""]'),
    ],
    injection: ["' OR '1'='1", '${HOME}', '$(id)', '`id`', '%s%n', 'a\r\nX-Injected: 1', '<script>alert(1)</script>', 'null', 'true', '[]', '{}'],
  };
}

/** Values of the wrong JSON type, odd numbers and deep nesting, for body fields and whole bodies. */
export function hostileJsonValues(random: Random): unknown[] {
  const depth = random.pick([64, 1_000, 20_000]);
  return [
    null, true, false, 0, -1, 1.5, 2 ** 53 + 2, -(2 ** 63), 1e308, [], {}, [null], [[[]]], { a: { b: { c: {} } } },
    new RawJson('1e309'), new RawJson('-1e309'), new RawJson('1e-400'), new RawJson('-0'), new RawJson('123456789012345678901234567890'),
    new RawJson('['.repeat(depth) + ']'.repeat(depth)),
    new RawJson('{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
    { __proto__: null, constructor: { prototype: { admin: true } } },
    new RawJson('{"__proto__":{"admin":true}}'),
    new RawJson('{"a":1,"a":2}'),
    Array.from({ length: 2_000 }, (_, i) => i),
    Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, 'v'])),
  ];
}

/** Whole request bodies that are not the JSON object a route expects. */
export const RAW_BODIES = ['', ' ', 'null', '[]', '"text"', '42', '{', '{"a":}', '\u0000', '{"a":"\\u0000"}', '{"a":"\\ud800"}', '\ufeff{}', '{}garbage'];

/** Hostile path segments, already in their on-the-wire form. */
export function hostileSegments(random: Random, real: { uuid?: string } = {}): string[] {
  const strings = Object.values(hostileStrings(real)).flat().filter((s) => s.length < 10_000);
  return [
    '..', '%2e%2e', '%2E%2E', '.', '%00', 'a%00b', '%ZZ', '%', '%ed%a0%80', '%c0%ae', '%ff', 'x'.repeat(5_000), '%2f', 'a%2fb',
    encodeURIComponent(random.pick(strings).replace(/[\ud800-\udfff]/g, '')),
    random.pick(strings).replace(/[\ud800-\udfff]/g, '').replace(/[^\x20-\x7e]/g, (c) => encodeURIComponent(c)).replace(/[#?/ ]/g, (c) => encodeURIComponent(c)),
  ];
}
