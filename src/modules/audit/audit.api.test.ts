import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';

const server = useTestServer();

async function events(orgSlug: string, token: string, query = '') {
  return (await server.expect(200, 'GET', `/orgs/${orgSlug}/audit-events${query}`, { token })).body.items as {
    id: string;
    seq: number;
    event_type: string;
    target_type: string;
    target_name: string;
    change: string;
    actor: { type: string; id: string; name: string };
    tool: string;
    request_id: string;
    source_ip: string;
    details: Record<string, unknown>;
  }[];
}

describe('recording', () => {
  it('records each change once, in the same transaction, with who, what, tool and request', async () => {
    const { owner, org: o } = await server.org();
    const created = await server.expect(201, 'POST', `/orgs/${o}/projects`, {
      token: owner.token,
      payload: { slug: 'shop' },
      headers: { 'x-coffer-tool': 'cli', 'x-request-id': 'req-project-1' },
    });
    await server.expect(200, 'PATCH', `/orgs/${o}/projects/shop`, { token: owner.token, payload: { description: 'the shop' } });
    await server.expect(204, 'DELETE', `/orgs/${o}/projects/shop`, { token: owner.token });

    const log = await events(o, owner.token, '?target_type=project');
    expect(log.map((e) => e.event_type)).toEqual(['DELETE', 'UPDATE', 'CREATE']);
    const create = log[2]!;
    expect(create).toMatchObject({
      target_name: 'shop',
      change: 'Created project shop',
      actor: { type: 'user', id: owner.id, name: owner.email },
      tool: 'CLI',
      request_id: 'req-project-1',
    });
    expect(create.details).toMatchObject({ after: { slug: 'shop' } });
    expect(log[1]!.details).toEqual({ before: { description: '' }, after: { description: 'the shop' } });
    expect(created.body.id).toBe((log[0] as { target_id?: string }).target_id ?? created.body.id);
  });

  it('records the organization, invitations, membership, roles, clusters, environments, services and tokens', async () => {
    const { owner, org: o } = await server.org();
    const viewer = await server.member(owner.token, o, 'VIEWER');
    const role = await server.expect(201, 'POST', `/orgs/${o}/roles`, { token: owner.token, payload: { name: 'Ops' } });
    await server.expect(200, 'PATCH', `/orgs/${o}/members/${viewer.id}`, { token: owner.token, payload: { role_id: role.body.id } });
    await server.expect(201, 'POST', `/orgs/${o}/clusters`, { token: owner.token, payload: { name: 'eks' } });
    await server.expect(201, 'POST', `/orgs/${o}/projects`, { token: owner.token, payload: { slug: 'p' } });
    await server.expect(201, 'POST', `/orgs/${o}/projects/p/environments`, { token: owner.token, payload: { slug: 'prod', type: 'PRODUCTION' } });
    await server.expect(201, 'POST', `/orgs/${o}/projects/p/environments/prod/services`, { token: owner.token, payload: { slug: 'api', kind: 'application' } });
    const token = await server.expect(201, 'POST', `/orgs/${o}/tokens`, { token: owner.token, payload: { name: 'ci', preset: 'ci' } });
    await server.expect(204, 'DELETE', `/orgs/${o}/tokens/${token.body.id}`, { token: owner.token });

    const log = (await events(o, owner.token, '?limit=100')).reverse();
    expect(log.map((e) => `${e.event_type} ${e.target_type}`)).toEqual([
      'CREATE organization',
      'CREATE invitation',
      'CREATE member',
      'CREATE role',
      'UPDATE member',
      'CREATE cluster',
      'CREATE project',
      'CREATE environment',
      'CREATE service',
      'CREATE token',
      'DELETE token',
    ]);
    expect(log[2]!.actor.name).toBe(viewer.email);
    expect(log[4]!.change).toBe(`Changed the role of ${viewer.email} to custom role Ops`);
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
  });

  it('records nothing for a change that fails', async () => {
    const { owner, org: o } = await server.org();
    await server.expect(201, 'POST', `/orgs/${o}/projects`, { token: owner.token, payload: { slug: 'dup' } });
    const before = (await events(o, owner.token)).length;
    await server.expect(409, 'POST', `/orgs/${o}/projects`, { token: owner.token, payload: { slug: 'dup' } });
    await server.expect(400, 'POST', `/orgs/${o}/projects`, { token: owner.token, payload: { slug: 'Bad Slug' } });
    expect((await events(o, owner.token)).length).toBe(before);
  });

  it('never writes a service output value into the log', async () => {
    const { owner, org: o } = await server.org();
    const canary = 'canary-Zq8rT1vXw4yP';
    await server.expect(201, 'POST', `/orgs/${o}/projects`, { token: owner.token, payload: { slug: 'p' } });
    await server.expect(201, 'POST', `/orgs/${o}/projects/p/environments`, { token: owner.token, payload: { slug: 'e', type: 'STAGING' } });
    await server.expect(201, 'POST', `/orgs/${o}/projects/p/environments/e/services`, {
      token: owner.token,
      payload: { slug: 'db', kind: 'database', outputs: { password: canary, host: canary } },
    });
    await server.expect(200, 'PATCH', `/orgs/${o}/projects/p/environments/e/services/db`, {
      token: owner.token,
      payload: { outputs: { password: `${canary}-2` } },
    });
    const exported = await server.request('GET', `/orgs/${o}/audit-events/export?format=jsonl`, { token: owner.token });
    expect(exported.raw.body).not.toContain('canary-');
    const rows = await server.db.selectFrom('audit_events').select(sql<string>`details::text`.as('d')).execute();
    expect(rows.some((row) => row.d.includes('canary-'))).toBe(false);
  });

  it('records a refused request inside the organization as ACCESS_DENIED', async () => {
    const { owner, org: o } = await server.org();
    const viewer = await server.member(owner.token, o, 'VIEWER');
    await server.expect(403, 'POST', `/orgs/${o}/clusters`, { token: viewer.token, payload: { name: 'x' } });
    const [denied] = await events(o, owner.token, '?event_type=ACCESS_DENIED');
    expect(denied).toMatchObject({
      target_type: 'organization',
      actor: { id: viewer.id, name: viewer.email },
      details: { action: 'cluster:manage', method: 'POST' },
    });
  });

  it('lets a platform record what it did, with the caller as actor, given audit:write', async () => {
    const { owner, org: o } = await server.org();
    const viewer = await server.member(owner.token, o, 'VIEWER');
    const payload = { event_type: 'TRIGGER_DEPLOYMENT', target_type: 'service', target_name: 'shop/production/backend', change: 'Deployed backend v42' };
    const recorded = await server.expect(201, 'POST', `/orgs/${o}/audit-events`, { token: owner.token, payload });
    expect(recorded.body).toMatchObject({ ...payload, actor: { name: owner.email } });
    const refused = await server.request('POST', `/orgs/${o}/audit-events`, { token: viewer.token, payload });
    expect(refused.status).toBe(403);
    expect(refused.body.error.details.action).toBe('audit:write');
    expect((await server.request('POST', `/orgs/${o}/audit-events`, { token: owner.token, payload: { ...payload, event_type: 'lower' } })).status).toBe(400);
  });

  it.each(['PURGE', 'ACCESS_DENIED', 'READ_SECRET', 'LOGIN', 'CREATE', 'UPDATE', 'DELETE', 'NOTE'])(
    'refuses to ingest %s, which only Coffer writes, with 400 naming body.event_type and what is allowed',
    async (eventType) => {
      const { owner, org: o } = await server.org();
      const before = await events(o, owner.token);
      const forged = await server.request('POST', `/orgs/${o}/audit-events`, {
        token: owner.token,
        payload: { event_type: eventType, target_type: 'audit_log', change: 'Purged 0 audit events' },
      });
      expect(forged.status).toBe(400);
      expect(forged.body.error.details).toMatchObject({ field: 'body.event_type', allowed: expect.arrayContaining(['TRIGGER_DEPLOYMENT', 'SHELL_SESSION']) });
      expect(forged.body.error.details.allowed).not.toContain(eventType);
      expect(forged.body.error.message).toContain('TRIGGER_DEPLOYMENT');
      expect(await events(o, owner.token)).toEqual(before);
    },
  );

  it('keeps sign-ins and failed attempts in the user security log', async () => {
    const user = await server.user('secure');
    await server.request('POST', '/auth/login', { payload: { email: user.email, password: 'not the password!' } });
    const log = await server.expect(200, 'GET', '/me/security-events', { token: user.token });
    expect(log.body.items.map((e: { event_type: string }) => e.event_type)).toEqual(['LOGIN_FAILED', 'LOGIN']);
  });
});

describe('reading', () => {
  it('needs audit:read', async () => {
    const { owner, org: o } = await server.org();
    const viewer = await server.member(owner.token, o, 'VIEWER');
    const auditor = await server.member(owner.token, o, 'AUDITOR');
    expect((await server.request('GET', `/orgs/${o}/audit-events`, { token: viewer.token })).status).toBe(403);
    await server.expect(200, 'GET', `/orgs/${o}/audit-events`, { token: auditor.token });
  });

  it('filters and pages newest first with next_cursor', async () => {
    const { owner, org: o } = await server.org();
    for (let i = 0; i < 7; i++) {
      await server.expect(201, 'POST', `/orgs/${o}/projects`, { token: owner.token, payload: { slug: `p${i}` }, headers: { 'x-coffer-tool': i % 2 ? 'TERRAFORM' : 'CONSOLE' } });
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?target_type=project&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await server.expect(200, 'GET', `/orgs/${o}/audit-events${query}`, { token: owner.token });
      seen.push(...page.body.items.map((e: { seq: number }) => e.seq));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
    expect(seen).toHaveLength(7);
    expect(await events(o, owner.token, '?tool=TERRAFORM')).toHaveLength(3);
    expect(await events(o, owner.token, `?actor=${encodeURIComponent(owner.email)}&event_type=CREATE&target=p3`)).toHaveLength(1);
    expect(await events(o, owner.token, `?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
    expect((await server.request('GET', `/orgs/${o}/audit-events?cursor=garbage`, { token: owner.token })).status).toBe(400);
    expect((await server.request('GET', `/orgs/${o}/audit-events?tool=HAMMER`, { token: owner.token })).status).toBe(400);
  });

  it('returns one event in full by id, and 404 for another organization’s event', async () => {
    const a = await server.org();
    const b = await server.org();
    const [first] = await events(a.org, a.owner.token);
    const one = await server.expect(200, 'GET', `/orgs/${a.org}/audit-events/${first!.id}`, { token: a.owner.token });
    expect(one.body).toMatchObject({ id: first!.id, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await server.request('GET', `/orgs/${b.org}/audit-events/${first!.id}`, { token: b.owner.token })).status).toBe(404);
  });

  it('exports JSON lines and CSV with a header, quoting and formula escaping', async () => {
    const { owner, org: o } = await server.org();
    await server.expect(201, 'POST', `/orgs/${o}/audit-events`, {
      token: owner.token,
      payload: { event_type: 'SCAN_IMAGE', target_type: 'note', change: '=HYPERLINK("x"), then "quotes",\nand a newline' },
    });
    const jsonl = await server.expect(200, 'GET', `/orgs/${o}/audit-events/export`, { token: owner.token });
    const lines = jsonl.raw.body.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((e) => e.event_type)).toEqual(['SCAN_IMAGE', 'CREATE']);

    const csv = await server.expect(200, 'GET', `/orgs/${o}/audit-events/export?format=csv&event_type=SCAN_IMAGE`, { token: owner.token });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const [header, row] = csv.raw.body.split('\r\n');
    expect(header).toBe('id,seq,occurred_at,event_type,target_type,target_id,target_name,change,actor_type,actor_id,actor_name,tool,source_ip,request_id,details,hash');
    expect(row).toContain(`"'=HYPERLINK(""x""), then ""quotes"",\nand a newline"`);
  });
});

describe('tamper evidence', () => {
  it('verifies an intact chain, including under concurrent writers', async () => {
    const { owner, org: o } = await server.org();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => server.expect(201, 'POST', `/orgs/${o}/projects`, { token: owner.token, payload: { slug: `c${i}` } })),
    );
    const verdict = await server.expect(200, 'GET', `/orgs/${o}/audit-events/verify`, { token: owner.token });
    expect(verdict.body).toEqual({ ok: true, checked: 21 });
  });

  it('names the first event whose row was edited in the database', async () => {
    const { owner, org: o } = await server.org();
    for (const slug of ['a', 'b', 'c']) await server.expect(201, 'POST', `/orgs/${o}/projects`, { token: owner.token, payload: { slug } });
    const log = await events(o, owner.token);
    const victim = log.find((e) => e.target_name === 'b')!;
    await server.db.updateTable('audit_events').set({ change: 'Created project innocent' }).where('id', '=', victim.id).execute();
    const verdict = await server.expect(200, 'GET', `/orgs/${o}/audit-events/verify`, { token: owner.token });
    expect(verdict.body).toMatchObject({ ok: false, first_bad_id: victim.id });
  });

  it('names the event after a deleted one as a gap', async () => {
    const { owner, org: o } = await server.org();
    for (const slug of ['a', 'b', 'c']) await server.expect(201, 'POST', `/orgs/${o}/projects`, { token: owner.token, payload: { slug } });
    const log = await events(o, owner.token);
    const removed = log.find((e) => e.target_name === 'b')!;
    const next = log.find((e) => e.target_name === 'c')!;
    await server.db.deleteFrom('audit_events').where('id', '=', removed.id).execute();
    const verdict = await server.expect(200, 'GET', `/orgs/${o}/audit-events/verify`, { token: owner.token });
    expect(verdict.body).toMatchObject({ ok: false, first_bad_id: next.id, reason: expect.stringContaining('gap') });
  });
});

describe('retention', () => {
  it('purges events past retention_days and the kept chain still verifies', async () => {
    const { owner, org: o } = await server.org();
    for (const slug of ['old-1', 'old-2', 'new-1']) await server.expect(201, 'POST', `/orgs/${o}/projects`, { token: owner.token, payload: { slug } });
    const log = await events(o, owner.token);
    const old = log.filter((e) => e.target_name?.startsWith('old') || e.target_type === 'organization');
    await server.db
      .updateTable('audit_events')
      .set({ occurred_at: new Date(Date.now() - 40 * 24 * 3600 * 1000) })
      .where('id', 'in', old.map((e) => e.id))
      .execute();
    // Moving timestamps broke those events' hashes; purging them must leave a chain that verifies.
    const changed = await server.expect(200, 'PATCH', `/orgs/${o}/settings`, { token: owner.token, payload: { retention_days: 30 } });
    expect(changed.body.retention_days).toBe(30);
    const purged = await server.expect(200, 'POST', `/orgs/${o}/audit-events/purge`, { token: owner.token });
    expect(purged.body).toEqual({ purged: 3 });
    const kept = await events(o, owner.token);
    // The purge is itself recorded, by whoever asked for it.
    expect(kept.map((e) => e.target_name)).toEqual([null, o, 'new-1']);
    expect(kept[0]).toMatchObject({ event_type: 'PURGE', target_type: 'audit_log', actor: { name: owner.email } });
    expect(kept[0]!.details).toMatchObject({ purged: 3, retention_days: 30 });
    expect((await server.expect(200, 'GET', `/orgs/${o}/audit-events/verify`, { token: owner.token })).body).toEqual({ ok: true, checked: 3 });
  });

  it('needs organization:setup to change retention', async () => {
    const { owner, org: o } = await server.org();
    const viewer = await server.member(owner.token, o, 'VIEWER');
    const devops = await server.member(owner.token, o, 'DEVOPS');
    const refused = await server.request('PATCH', `/orgs/${o}/settings`, { token: viewer.token, payload: { retention_days: 1 } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.details.action).toBe('organization:setup');
    // DEVOPS holds organization:setup though not organization:write (seed 000).
    const changed = await server.expect(200, 'PATCH', `/orgs/${o}/settings`, { token: devops.token, payload: { retention_days: 7 } });
    expect(changed.body.retention_days).toBe(7);
    expect((await server.request('PATCH', `/orgs/${o}`, { token: devops.token, payload: { name: 'x' } })).status).toBe(403);
  });
});

describe('checkpoints', () => {
  it('signs the head of the chain with a key outside the database, and verify proves the chain extends it', async () => {
    const { owner, org: o } = await server.org();
    await server.expect(201, 'POST', `/orgs/${o}/projects`, { token: owner.token, payload: { slug: 'a' } });
    const saved = (await server.expect(200, 'GET', `/orgs/${o}/audit-events/checkpoint`, { token: owner.token })).body;
    expect(saved.checkpoint).toMatchObject({ organization: o, sequence: 2, head_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(saved.public_key).toContain('BEGIN PUBLIC KEY');
    const { public_key: _key, ...signed } = saved;

    await server.expect(201, 'POST', `/orgs/${o}/projects`, { token: owner.token, payload: { slug: 'b' } });
    const fine = await server.expect(200, 'POST', `/orgs/${o}/audit-events/verify`, { token: owner.token, payload: { checkpoints: [signed] } });
    expect(fine.body).toMatchObject({ ok: true, checked: 3, checkpoints: [{ sequence: 2, ok: true }] });

    const forged = { ...signed, checkpoint: { ...signed.checkpoint, sequence: 1 } };
    const refused = await server.expect(200, 'POST', `/orgs/${o}/audit-events/verify`, { token: owner.token, payload: { checkpoints: [forged] } });
    expect(refused.body).toMatchObject({ ok: false, checkpoints: [{ ok: false, reason: expect.stringContaining('signature') }] });
  });

  it('catches a log rewritten with recomputed hashes, which the chain alone cannot', async () => {
    const { owner, org: o } = await server.org();
    await server.expect(201, 'POST', `/orgs/${o}/projects`, { token: owner.token, payload: { slug: 'a' } });
    const { public_key: _key, ...signed } = (await server.expect(200, 'GET', `/orgs/${o}/audit-events/checkpoint`, { token: owner.token })).body;

    // A database superuser rewrites event 2 and recomputes every hash from there: the chain verifies.
    const { chainHash } = await import('./chain.js');
    const row = await server.db
      .selectFrom('audit_events')
      .selectAll()
      .where('organization_id', '=', signed.checkpoint.organization_id)
      .where('seq', '=', 2)
      .executeTakeFirstOrThrow();
    const { id: _id, hash: _hash, prev_hash, ...content } = row;
    const rewritten = { ...content, change: 'Created project innocent' };
    const hash = chainHash(rewritten, prev_hash);
    await server.db.updateTable('audit_events').set({ change: rewritten.change, hash }).where('id', '=', row.id).execute();
    await server.db.updateTable('audit_chains').set({ last_hash: hash }).where('organization_id', '=', row.organization_id).execute();
    expect((await server.expect(200, 'GET', `/orgs/${o}/audit-events/verify`, { token: owner.token })).body.ok).toBe(true);

    const verdict = await server.expect(200, 'POST', `/orgs/${o}/audit-events/verify`, { token: owner.token, payload: { checkpoints: [signed] } });
    expect(verdict.body).toMatchObject({ ok: false, checkpoints: [{ sequence: 2, ok: false }] });
  });
});
