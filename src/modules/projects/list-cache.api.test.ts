import { describe, expect, it } from 'vitest';
import { useServerAndReader } from '../../../test/harness.js';

const onPostgres = process.env.COFFER_TEST_BACKEND === 'postgres';
/** Where the lists are cached: a second instance on PostgreSQL, the same one on PGlite. */
const { server, reader } = useServerAndReader();

describe(`cached project lists (${onPostgres ? 'two instances' : 'one instance'})`, () => {
  // No retries: the write answers only once every instance has dropped the old list.
  it('follow every creation, rename and deletion on every instance by the time the write answers', async () => {
    const { owner, org } = await server.tree();
    const slugs = async (token = owner.token) => {
      const response = await reader.expect(200, 'GET', `/orgs/${org}/projects`, { token });
      return (response.body.items as { slug: string; name: string }[]).map((project) => `${project.slug}:${project.name}`);
    };
    const write = (status: number, method: string, url: string, payload?: unknown) => server.expect(status, method, url, { token: owner.token, payload });

    expect(await slugs()).toEqual(['shop:shop']);
    await write(201, 'POST', `/orgs/${org}/projects`, { slug: 'alpha' });
    expect(await slugs()).toEqual(['alpha:alpha', 'shop:shop']);
    await write(200, 'PATCH', `/orgs/${org}/projects/alpha`, { slug: 'zulu', name: 'Zulu' });
    expect(await slugs()).toEqual(['shop:shop', 'zulu:Zulu']);
    await write(204, 'DELETE', `/orgs/${org}/projects/shop`);
    expect(await slugs()).toEqual(['zulu:Zulu']);
  });

  it('pages with cursors, a member of a custom role seeing only its projects, the same from memory as from the database', async () => {
    const { owner, org } = await server.tree();
    const ids = new Map<string, string>();
    for (const slug of ['p-a', 'p-b', 'p-c', 'p-d', 'p-e']) ids.set(slug, (await server.expect(201, 'POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug } })).body.id);
    const pages = async (token: string, limit: number) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
        const response = await reader.expect(200, 'GET', `/orgs/${org}/projects?${query}`, { token });
        seen.push(...(response.body.items as { slug: string }[]).map((project) => project.slug));
        cursor = response.body.next_cursor as string | null;
      } while (cursor);
      return seen;
    };
    expect(await pages(owner.token, 2)).toEqual(['p-a', 'p-b', 'p-c', 'p-d', 'p-e', 'shop']);
    expect(await pages(owner.token, 4)).toEqual(['p-a', 'p-b', 'p-c', 'p-d', 'p-e', 'shop']);

    const role = await server.expect(201, 'POST', `/orgs/${org}/roles`, {
      token: owner.token,
      payload: { name: 'two projects', project_permissions: ['p-b', 'p-e'].map((slug) => ({ project_id: ids.get(slug), permissions: [{ environment_type: 'PRODUCTION', permission: 'VIEWER' }] })) },
    });
    const member = await server.holder(owner.token, org, role.body.id);
    expect(await pages(member.token, 1)).toEqual(['p-b', 'p-e']);
    // A cursor naming a project deleted since: read from the database, still the projects after it.
    const first = await reader.expect(200, 'GET', `/orgs/${org}/projects?limit=1`, { token: member.token });
    await server.expect(204, 'DELETE', `/orgs/${org}/projects/p-b`, { token: owner.token });
    const next = await reader.expect(200, 'GET', `/orgs/${org}/projects?limit=1&cursor=${first.body.next_cursor}`, { token: member.token });
    expect((next.body.items as { slug: string }[]).map((project) => project.slug)).toEqual(['p-e']);
  });
});
