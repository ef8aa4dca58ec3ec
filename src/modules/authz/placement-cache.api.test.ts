import { describe, expect, it } from 'vitest';
import { useServerAndReader } from '../../../test/harness.js';

const onPostgres = process.env.COFFER_TEST_BACKEND === 'postgres';
/** Where the token's placements are cached: a second instance on PostgreSQL, the same one on PGlite. */
const { server, reader } = useServerAndReader();

describe(`cached token placements (${onPostgres ? 'two instances' : 'one instance'})`, () => {
  // No retries: the write answers only once every instance has dropped the old placements.
  it('follow every rename and deletion in the hierarchy on every instance by the time the write answers', async () => {
    const { owner, org } = await server.tree();
    const minted = await server.expect(201, 'POST', `/orgs/${org}/tokens`, { token: owner.token, payload: { name: 'reader', preset: 'read-only' } });
    const token = minted.body.token as string;
    const write = (method: string, url: string, payload?: unknown) => server.expect(method === 'DELETE' ? 204 : 200, method, url, { token: owner.token, payload });
    const status = async (url: string) => (await reader.request('GET', url, { token })).status;

    let orgUrl = `/orgs/${org}`;
    const cached = async (url: string) => {
      expect(await status(url)).toBe(200);
      expect(await status(url)).toBe(200);
    };
    const moved = async (from: string, to: string) => {
      expect(await status(from)).toBe(404);
      expect(await status(to)).toBe(200);
    };

    const service = (o: string, p = 'shop', e = 'production', s = 'backend') => `${o}/projects/${p}/environments/${e}/services/${s}`;
    await cached(service(orgUrl));
    await write('PATCH', orgUrl, { slug: `${org}-renamed` });
    await moved(service(orgUrl), service(`${orgUrl}-renamed`));
    orgUrl = `${orgUrl}-renamed`;

    await cached(service(orgUrl));
    await write('PATCH', `${orgUrl}/projects/shop`, { slug: 'store' });
    await moved(service(orgUrl), service(orgUrl, 'store'));

    await cached(service(orgUrl, 'store'));
    await write('PATCH', `${orgUrl}/projects/store/environments/production`, { slug: 'live' });
    await moved(service(orgUrl, 'store'), service(orgUrl, 'store', 'live'));

    await cached(service(orgUrl, 'store', 'live'));
    await write('PATCH', service(orgUrl, 'store', 'live'), { slug: 'api' });
    await moved(service(orgUrl, 'store', 'live'), service(orgUrl, 'store', 'live', 'api'));

    await cached(service(orgUrl, 'store', 'live', 'api'));
    await write('DELETE', service(orgUrl, 'store', 'live', 'api'));
    expect(await status(service(orgUrl, 'store', 'live', 'api'))).toBe(404);

    await cached(`${orgUrl}/projects/store/environments/live`);
    await write('DELETE', `${orgUrl}/projects/store/environments/live`);
    expect(await status(`${orgUrl}/projects/store/environments/live`)).toBe(404);

    await cached(`${orgUrl}/projects/store`);
    await write('DELETE', `${orgUrl}/projects/store`);
    expect(await status(`${orgUrl}/projects/store`)).toBe(404);
  });

  it('follow a change of organization settings, which the placement carries', async () => {
    const { owner, org } = await server.tree();
    const minted = await server.expect(201, 'POST', `/orgs/${org}/tokens`, { token: owner.token, payload: { name: 'reader', preset: 'read-only' } });
    const token = minted.body.token as string;
    expect((await reader.expect(200, 'GET', `/orgs/${org}`, { token })).body).toMatchObject({ retention_days: 365 });
    await server.expect(200, 'PATCH', `/orgs/${org}/settings`, { token: owner.token, payload: { retention_days: 30 } });
    expect((await reader.expect(200, 'GET', `/orgs/${org}`, { token })).body).toMatchObject({ retention_days: 30 });
  });
});
