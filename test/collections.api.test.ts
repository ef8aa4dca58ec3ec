import { describe, expect, it } from 'vitest';
import { expectError, expectInvalidField, useTestServer } from './harness.js';

/**
 * What every named collection of the hierarchy owes its callers, checked once for projects,
 * environments, services and clusters: an item read back and listed as created, its naming rule (400 naming the field, on create and on
 * edit), names unique within the parent (409 naming the field) but free under another parent,
 * a rename onto a taken name refused without change, a closed attribute (an environment's type,
 * a service's kind) refusing other values, deletion (204, then 404 and gone from
 * the list), 404 under a parent that does not exist, and paging in name order. The module
 * files keep what is particular to each (types, kinds, outputs, clusters, cascades).
 */

const server = useTestServer();

interface Collection {
  /** The field that names an item and must be unique under its parent. */
  field: 'slug' | 'name';
  /** A body creating an item named `name`. */
  body(name: string): Record<string, unknown>;
  /** Names the naming rule refuses (undefined: the field is missing). */
  invalid: [label: string, name: string | undefined][];
  /** A new owner with an empty collection, the same collection under another parent, and one under a parent that does not exist. */
  setup(): Promise<{ token: string; url: string; other: { token: string; url: string }; missing: string }>;
  /** Where an item answers: its slug, or for clusters its id. */
  item(url: string, created: { id: string; slug?: string }): string;
  /** An attribute with a closed set of values (an environment's type, a service's kind), and values outside it. */
  closed?: { field: string; refused: string[] };
}

const BAD_SLUGS: Collection['invalid'] = [
  ['with a space and capitals', 'Bad Slug'],
  ['starting with a dash', '-x'],
  ['of 64 characters', 'a'.repeat(64)],
  ['that is empty', ''],
  ['with an underscore', 'under_score'],
  ['that is missing', undefined],
];
const bySlug = (url: string, created: { slug?: string }) => `${url}/${created.slug}`;

/** Collections of the organization (projects, clusters): the other parent is another owner's organization. */
async function ofOrganization(collection: string) {
  const [mine, theirs] = [await server.org(), await server.org()];
  return {
    token: mine.owner.token,
    url: `/orgs/${mine.org}/${collection}`,
    other: { token: theirs.owner.token, url: `/orgs/${theirs.org}/${collection}` },
    missing: `/orgs/${server.slug('ghost')}/${collection}`,
  };
}

/** A new owner and organization with project `shop` (and, with `env`, environment `production` in it). */
async function shop(env = false) {
  const { owner, org } = await server.org();
  await server.expect(201, 'POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'shop' } });
  if (env) await server.expect(201, 'POST', `/orgs/${org}/projects/shop/environments`, { token: owner.token, payload: { slug: 'production', type: 'PRODUCTION' } });
  return { token: owner.token, org };
}

const COLLECTIONS: Record<string, Collection> = {
  project: {
    field: 'slug',
    body: (slug) => ({ slug }),
    invalid: BAD_SLUGS,
    setup: () => ofOrganization('projects'),
    item: bySlug,
  },
  environment: {
    field: 'slug',
    body: (slug) => ({ slug, type: 'PREVIEW' }),
    invalid: BAD_SLUGS,
    async setup() {
      const { token, org } = await shop();
      await server.expect(201, 'POST', `/orgs/${org}/projects`, { token, payload: { slug: 'blog' } });
      return {
        token,
        url: `/orgs/${org}/projects/shop/environments`,
        other: { token, url: `/orgs/${org}/projects/blog/environments` },
        missing: `/orgs/${org}/projects/nope/environments`,
      };
    },
    item: bySlug,
    closed: { field: 'type', refused: ['QA', 'production', 'Production', 'LIVE', ''] },
  },
  service: {
    field: 'slug',
    body: (slug) => ({ slug, kind: 'container', outputs: { url: `https://${slug}.internal` } }),
    invalid: BAD_SLUGS,
    async setup() {
      const { token, org } = await shop(true);
      await server.expect(201, 'POST', `/orgs/${org}/projects/shop/environments`, { token, payload: { slug: 'staging', type: 'STAGING' } });
      const environments = `/orgs/${org}/projects/shop/environments`;
      return {
        token,
        url: `${environments}/production/services`,
        other: { token, url: `${environments}/staging/services` },
        missing: `${environments}/nope/services`,
      };
    },
    item: bySlug,
    closed: { field: 'kind', refused: ['server', 'Application', 'lambda', ''] },
  },
  cluster: {
    field: 'name',
    body: (name) => ({ name, region: 'us-east-1' }),
    invalid: [
      ['that is empty', ''],
      ['over 200 characters', 'x'.repeat(201)],
      ['that is missing', undefined],
    ],
    setup: () => ofOrganization('clusters'),
    item: (url, created) => `${url}/${created.id}`,
  },
};

describe.each(Object.entries(COLLECTIONS))('%s collection', (_kind, c) => {
  const create = async (token: string, url: string, name: string) => (await server.expect(201, 'POST', url, { token, payload: c.body(name) })).body;

  it.each(c.invalid)(`refuses a ${c.field} %s with 400 naming body.${c.field}, on create and on edit`, async (_label, name) => {
    const { token, url } = await c.setup();
    expectInvalidField(await server.request('POST', url, { token, payload: c.body(name as string) }), `body.${c.field}`);
    if (name === undefined) return;
    const item = c.item(url, await create(token, url, 'fine'));
    expectInvalidField(await server.request('PATCH', item, { token, payload: { [c.field]: name } }), `body.${c.field}`);
    expect((await server.expect(200, 'GET', item, { token })).body[c.field]).toBe('fine');
  });

  it('answers an item at its address as it was created, and lists it among the others in order', async () => {
    const { token, url } = await c.setup();
    const second = await create(token, url, 'second');
    const first = await create(token, url, 'first');
    expect((await server.expect(200, 'GET', c.item(url, first), { token })).body).toEqual(first);
    expect((await server.expect(200, 'GET', url, { token })).body).toEqual({ items: [first, second], next_cursor: null });
  });

  const closed = c.closed;
  if (closed) {
    it.each([...closed.refused, undefined])(`refuses the ${closed.field} %j with 400 naming body.${closed.field}, on create and on edit`, async (value) => {
      const { token, url } = await c.setup();
      expectInvalidField(await server.request('POST', url, { token, payload: { ...c.body('refused'), [closed.field]: value } }), `body.${closed.field}`);
      if (value === undefined) return;
      const item = c.item(url, await create(token, url, 'kept'));
      expectInvalidField(await server.request('PATCH', item, { token, payload: { [closed.field]: value } }), `body.${closed.field}`);
      expect((await server.expect(200, 'GET', item, { token })).body[closed.field]).toBe(c.body('kept')[closed.field]);
    });
  }

  it(`refuses a duplicate ${c.field} under the same parent with 409 naming it, and accepts it under another`, async () => {
    const { token, url, other } = await c.setup();
    const first = await create(token, url, 'twin');
    expectError(await server.request('POST', url, { token, payload: c.body('twin') }), 409, 'CONFLICT', { field: c.field });
    const second = await create(other.token, other.url, 'twin');
    expect(second.id).not.toBe(first.id);
  });

  it(`refuses a rename onto a ${c.field} taken under the same parent with 409, and keeps the old one`, async () => {
    const { token, url } = await c.setup();
    await create(token, url, 'taken');
    const mine = c.item(url, await create(token, url, 'mine'));
    expectError(await server.request('PATCH', mine, { token, payload: { [c.field]: 'taken' } }), 409, 'CONFLICT');
    expect((await server.expect(200, 'GET', mine, { token })).body[c.field]).toBe('mine');
  });

  it(`deletes an item with 204, after which it answers 404 with a JSON error body and is no longer listed`, async () => {
    const { token, url } = await c.setup();
    const kept = await create(token, url, 'kept');
    await server.expectDeleted(c.item(url, await create(token, url, 'doomed')), token);
    expect((await server.expect(200, 'GET', url, { token })).body.items).toEqual([kept]);
  });

  it('answers 404 to listing or creating under a parent that does not exist', async () => {
    const { token, missing } = await c.setup();
    for (const [method, payload] of [['GET'], ['POST', c.body('orphan')]] as const) {
      expectError(await server.request(method, missing, { token, payload }), 404, 'NOT_FOUND');
    }
  });

  it(`pages through the items with limit and next_cursor, each once, in ${c.field} order`, async () => {
    const { token, url } = await c.setup();
    const names = ['p-echo', 'p-alpha', 'p-delta', 'p-bravo', 'p-charlie'];
    for (const name of names) await create(token, url, name);
    const pages = await server.pages(url, token, 2);
    expect(pages.flat().map((item) => item[c.field])).toEqual([...names].sort());
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
  });
});
