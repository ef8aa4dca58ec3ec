import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';

const server = useTestServer();

/** An organization whose production environment holds two variables, resolved `times` times. */
async function resolvedTimes(times: number) {
  const { owner, org } = await server.tree();
  const env = `/orgs/${org}/projects/shop/environments/production`;
  await server.expect(201, 'POST', `${env}/variables`, { token: owner.token, payload: { key: 'ALPHA', value: 'a' } });
  await server.expect(201, 'POST', `${env}/variables`, { token: owner.token, payload: { key: 'BETA', type: 'secret', value: 'b-secret-value' } });
  for (let i = 0; i < times; i++) await server.expect(200, 'GET', `${env}/resolve`, { token: owner.token });
  const organization = await server.db.selectFrom('organizations').select('id').where('slug', '=', org).executeTakeFirstOrThrow();
  return { owner, org, organizationId: organization.id };
}

describe('read events name their keys through a key list stored once', () => {
  it('stores one list for repeated resolutions and shows it in place in listings, single events and exports', async () => {
    const { owner, org, organizationId } = await resolvedTimes(3);
    const stored = await server.db.selectFrom('audit_key_sets').selectAll().where('organization_id', '=', organizationId).execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.keys).toEqual(['ALPHA', 'BETA', 'COFFER_APPLICATION_BACKEND_URL']);

    const rows = await server.db.selectFrom('audit_events').select(['details']).where('organization_id', '=', organizationId).where('event_type', '=', 'READ_SECRET').execute();
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.details).toMatchObject({ key_set: stored[0]!.digest, key_count: 3 });

    const listed = await server.expect(200, 'GET', `/orgs/${org}/audit-events?event_type=READ_SECRET`, { token: owner.token });
    for (const event of listed.body.items) expect(event.details.keys).toEqual(['ALPHA', 'BETA', 'COFFER_APPLICATION_BACKEND_URL']);
    const one = await server.expect(200, 'GET', `/orgs/${org}/audit-events/${listed.body.items[0].id}`, { token: owner.token });
    expect(one.body.details.keys).toEqual(['ALPHA', 'BETA', 'COFFER_APPLICATION_BACKEND_URL']);
    const exported = await server.expect(200, 'GET', `/orgs/${org}/audit-events/export?format=jsonl&event_type=READ_SECRET`, { token: owner.token });
    const lines = String(exported.raw.body).trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((event) => event.details.keys)).toEqual([['ALPHA', 'BETA', 'COFFER_APPLICATION_BACKEND_URL'], ['ALPHA', 'BETA', 'COFFER_APPLICATION_BACKEND_URL'], ['ALPHA', 'BETA', 'COFFER_APPLICATION_BACKEND_URL']]);
    expect(String(exported.raw.body)).not.toContain('b-secret-value');

    await server.expect(200, 'GET', `/orgs/${org}/audit-events/verify`, { token: owner.token }).then((r) => expect(r.body.ok).toBe(true));
  });

  it('fails verification, naming the first event that names it, when a stored key list is altered', async () => {
    const { owner, org, organizationId } = await resolvedTimes(2);
    await server.db.updateTable('audit_key_sets').set({ keys: JSON.stringify(['ALPHA']) }).where('organization_id', '=', organizationId).execute();
    const first = await server.db
      .selectFrom('audit_events')
      .select('id')
      .where('organization_id', '=', organizationId)
      .where('event_type', '=', 'READ_SECRET')
      .orderBy('seq')
      .executeTakeFirstOrThrow();
    const verdict = await server.expect(200, 'GET', `/orgs/${org}/audit-events/verify`, { token: owner.token });
    expect(verdict.body).toMatchObject({ ok: false, first_bad_id: first.id });
    expect(verdict.body.reason).toMatch(/key list .* was altered/);
  });
});
