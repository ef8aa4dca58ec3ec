import { describe, expect, it } from 'vitest';
import { decodeCursor, decodeCursorKey, encodeCursor, visiblePage } from './pagination.js';

const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('the cursor codec', () => {
  it('round-trips a one-string key and a composite key', () => {
    expect(decodeCursor(encodeCursor('acme'))).toBe('acme');
    expect(decodeCursorKey(encodeCursor(['DB_URL', 'id-1']), ['string', 'string'])).toEqual(['DB_URL', 'id-1']);
    expect(decodeCursorKey(encodeCursor([42]), ['number'])).toEqual([42]);
    expect(decodeCursor(undefined)).toBeUndefined();
  });

  it.each([
    ['not base64 JSON', '!!!'],
    ['an object', forge({ after: 'x' })],
    ['a key of the wrong length', forge(['a', 'b'])],
    ['a number where a string is expected', forge([1])],
    ['a NUL', forge(['a\u0000'])],
  ])('refuses %s as a 400 naming query.cursor', (_, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field: 'query.cursor', reason: 'is not a cursor this API returned' } }));
  });

  it('refuses a number key that is not a safe integer', () => {
    for (const value of ['1', 1.5, Number.MAX_SAFE_INTEGER + 2]) {
      expect(() => decodeCursorKey(forge([value]), ['number'])).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    }
  });
});

describe('a page of the visible rows', () => {
  // 1,000 sorted slugs, one in 50 visible: what a member on a custom role of 20 projects sees of a large organization.
  const slugs = Array.from({ length: 1000 }, (_, i) => `p${String(i).padStart(4, '0')}`);
  const visibleSlugs = slugs.filter((_, i) => i % 50 === 49);

  async function pages(limit: number) {
    const fetched: number[] = [];
    const fetch = async (after: string | undefined, count: number) => {
      fetched.push(count);
      return slugs.filter((slug) => after === undefined || slug > after).slice(0, count);
    };
    const seen: string[] = [];
    let cursor: string | undefined;
    let calls = 0;
    do {
      const page = await visiblePage({ cursor, limit, fetch, key: (slug) => slug, visible: (slug) => visibleSlugs.includes(slug), shape: (slug) => slug });
      expect(page.items.length).toBeLessThanOrEqual(limit);
      seen.push(...page.items);
      cursor = page.next_cursor ?? undefined;
      calls += 1;
    } while (cursor !== undefined && calls < 100);
    return { seen, fetched };
  }

  it('lists every visible row once, in order, whatever the page size', async () => {
    for (const limit of [1, 7, 50, 200]) expect((await pages(limit)).seen).toEqual(visibleSlugs);
  });

  it('fills a sparse first page in a few growing fetches, not one per 50 rows', async () => {
    const { fetched } = await pages(50);
    expect(fetched).toEqual([51, 102, 204, 408, 816]);
  });
});
