import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';

const server = useTestServer();

describe('organizations', () => {
  it('makes the creator the OWNER and lists it among their organizations', async () => {
    const alice = await server.user('alice');
    const slug = server.slug('acme');
    const created = await server.expect(201, 'POST', '/orgs', { token: alice.token, payload: { slug, name: 'Acme' } });
    expect(created.body).toMatchObject({ slug, name: 'Acme', role: 'OWNER' });

    const list = await server.expect(200, 'GET', '/orgs', { token: alice.token });
    expect(list.body.items.map((o: { slug: string }) => o.slug)).toEqual([slug]);

    const members = await server.expect(200, 'GET', `/orgs/${slug}/members`, { token: alice.token });
    expect(members.body.items).toEqual([expect.objectContaining({ user_id: alice.id, role: 'OWNER' })]);
  });
});
