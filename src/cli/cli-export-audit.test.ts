import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { describe, expect, it } from 'vitest';
import { server, fresh, coffer, ok, mode, PLACE, define, setup, ci, resolved } from '../../test/cli.js';

describe('coffer export', () => {
  async function seeded() {
    const tree = await setup();
    await define(tree, { key: 'PLAIN', type: 'plain', value: 'plain value' });
    // Quotes, $ and a line break, which dotenv carries in single quotes (with ' too it would refuse).
    await define(tree, { key: 'SECRET', type: 'secret', value: `a "secret" $HOME\nsecond line` });
    await define(tree, { key: 'CERT', type: 'file', value: 'cert\ncontent\n', mount_path: '/etc/cert.pem' });
    await define(tree, { type: 'pg_service', pg_service: { service: 'svc', host: 'db', port: 5432, dbname: 'app', user: 'u', password: 'pw' } });
    return tree;
  }

  it('prints exactly what the server resolves, in every format', async () => {
    const tree = await seeded();
    for (const format of ['dotenv', 'env-json', 'shell', 'yaml', 'pg_service', 'json']) {
      const result = await ok(['export', '--path', PLACE, '--format', format], ci(tree));
      expect(result.stdout, format).toBe(await resolved(tree, format));
      expect(result.stderr).toBe('');
    }
    const byDefault = await ok(['export', '--path', PLACE], ci(tree));
    expect(byDefault.stdout).toBe(await resolved(tree, 'dotenv'));
    expect(dotenv.parse(byDefault.stdout)).toMatchObject({ PLAIN: 'plain value', SECRET: `a "secret" $HOME\nsecond line` });
  });

  it('-o FILE writes it with mode 0600 and nothing on stdout', async () => {
    const tree = await seeded();
    for (const format of ['dotenv', 'shell', 'pg_service']) {
      const file = fresh(`export.${format}`);
      const result = await ok(['export', '--path', PLACE, '--format', format, '-o', file], ci(tree));
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`Wrote ${file}`);
      expect(mode(file)).toBe(0o600);
      expect(fs.readFileSync(file, 'utf8')).toBe(await resolved(tree, format));
    }
  });

  // Was a product bug (fixed): export.ts writes with fs.writeFileSync(file, text, { mode: 0o600 }); `mode` only
  // applies when the file is created, so `coffer export -o .env` over an existing 0644 .env leaves
  // the secrets world-readable although --help promises "mode 0600". Expected: 0600 afterwards.
  it('-o over an existing world-readable file leaves it 0600', async () => {
    const tree = await seeded();
    const file = fresh('existing.env');
    fs.writeFileSync(file, 'OLD=1\n', { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    await ok(['export', '--path', PLACE, '-o', file], ci(tree));
    expect(fs.readFileSync(file, 'utf8')).toBe(await resolved(tree, 'dotenv'));
    expect(mode(file)).toBe(0o600);
  });

  it('refuses an unknown format (2) and a project-only path (2)', async () => {
    const tree = await seeded();
    const format = await coffer(['export', '--path', PLACE, '--format', 'toml'], ci(tree));
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('--format must be one of');
    const place = await coffer(['export', '--path', 'shop'], ci(tree));
    expect(place.code).toBe(2);
  });
});

describe('coffer audit', () => {
  /** A tree where the CLI made a few changes. */
  async function logged() {
    const tree = await server.tree();
    const token = tree.owner.token;
    await ok(['projects', 'create', 'web'], { token });
    await ok(['vars', 'set', '--path', 'shop/production', 'A=1', 'B=2'], { token });
    return { ...tree, token };
  }

  it('audit ls: a table of the newest events (tool CLI for what the CLI did), and --json', async () => {
    const { token } = await logged();
    const ls = await ok(['audit', 'ls'], { token });
    const rows = ls.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^SEQ\s+OCCURRED_AT\s+EVENT_TYPE\s+ACTOR\s+TOOL\s+CHANGE$/);
    expect(rows.some((r) => /\bCREATE\b.*\bCLI\b/.test(r))).toBe(true);
    const json = JSON.parse((await ok(['audit', 'ls', '--json'], { token })).stdout) as { seq: number; tool: string; event_type: string }[];
    const seqs = json.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(json.filter((e) => e.tool === 'CLI' && e.event_type === 'CREATE')).toHaveLength(3);
    const filtered = JSON.parse((await ok(['audit', 'ls', '--json', '--tool', 'CLI', '--limit', '2'], { token })).stdout) as { tool: string }[];
    expect(filtered).toHaveLength(2);
    expect(filtered.every((e) => e.tool === 'CLI')).toBe(true);
  });

  it('audit show <id>: one event in full', async () => {
    const { token } = await logged();
    const [newest] = JSON.parse((await ok(['audit', 'ls', '--json', '--limit', '1'], { token })).stdout) as { id: string; seq: number }[];
    const shown = JSON.parse((await ok(['audit', 'show', newest!.id], { token })).stdout) as { id: string; seq: number; hash: string; details: unknown };
    expect(shown).toMatchObject({ id: newest!.id, seq: newest!.seq });
    const missing = await coffer(['audit', 'show', '00000000-0000-4000-8000-000000000000'], { token });
    expect(missing.code).toBe(5);
  });

  it('audit export --format csv -o FILE: a header line and one row per event', async () => {
    const { token } = await logged();
    const events = JSON.parse((await ok(['audit', 'ls', '--json', '--limit', '200'], { token })).stdout) as { id: string }[];
    const file = fresh('audit.csv');
    const result = await ok(['audit', 'export', '--format', 'csv', '-o', file], { token });
    expect(result.stdout).toBe('');
    const lines = fs.readFileSync(file, 'utf8').split('\r\n');
    expect(lines.pop()).toBe('');
    expect(lines[0]).toBe('id,seq,occurred_at,event_type,target_type,target_id,target_name,change,actor_type,actor_id,actor_name,tool,source_ip,request_id,details,hash');
    expect(lines.length - 1).toBe(events.length);
    for (const event of events) expect(lines.some((line) => line.startsWith(`${event.id},`))).toBe(true);
    expect(result.stderr).toContain(`Exported ${events.length} events to ${file}`);
    expect(mode(file)).toBe(0o600);

    const jsonl = await ok(['audit', 'export'], { token });
    expect(jsonl.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { id: string }).id).sort()).toEqual(events.map((e) => e.id).sort());
    const bad = await coffer(['audit', 'export', '--format', 'xml'], { token });
    expect(bad.code).toBe(2);
  });

  it('audit verify prints OK; with a saved checkpoint it says so; after tampering it exits 1 naming the bad event', async () => {
    const tree = await logged();
    const { token } = tree;
    const verified = await ok(['audit', 'verify'], { token });
    expect(verified.stdout).toMatch(/^OK: \d+ events verified\n$/);

    const dir = fresh('checkpoints');
    fs.mkdirSync(path.join(dir, 'acme'), { recursive: true });
    await ok(['audit', 'checkpoint', '-o', path.join(dir, 'acme', 'x.json')], { token });
    const checkpoint = JSON.parse(fs.readFileSync(path.join(dir, 'acme', 'x.json'), 'utf8')) as { checkpoint: { sequence: number }; signature: string };
    expect(checkpoint.checkpoint.sequence).toBeGreaterThan(1);
    expect(typeof checkpoint.signature).toBe('string');
    await ok(['vars', 'set', '--path', 'shop/production', 'C=3'], { token });
    const withCheckpoint = await ok(['audit', 'verify', '--checkpoints', dir], { token });
    expect(withCheckpoint.stdout).toMatch(/^OK: \d+ events verified, extending 1 signed checkpoints?\n$/);

    const organization = await server.db.selectFrom('organizations').select('id').where('slug', '=', tree.org).executeTakeFirstOrThrow();
    const victim = await server.db.selectFrom('audit_events').select('id').where('organization_id', '=', organization.id).where('seq', '=', 2).executeTakeFirstOrThrow();
    await server.db.updateTable('audit_events').set({ change: 'tampered' }).where('organization_id', '=', organization.id).where('seq', '=', 2).execute();

    const broken = await coffer(['audit', 'verify'], { token });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toContain('does not verify');
    expect(broken.stderr).toContain(victim.id);
    const brokenCheckpoint = await coffer(['audit', 'verify', '--checkpoints', dir], { token });
    expect(brokenCheckpoint.code).toBe(1);
    expect(brokenCheckpoint.stderr).toContain(victim.id);

    const noDir = await coffer(['audit', 'verify', '--checkpoints', fresh('none')], { token });
    expect(noDir.code).toBe(2);
  });

  it('audit needs audit:read: a ci token gets 4', async () => {
    const tree = await setup();
    const result = await coffer(['audit', 'ls'], ci(tree));
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('audit:read');
  });
});
