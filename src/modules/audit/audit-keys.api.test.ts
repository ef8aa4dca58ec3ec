import { createHmac, createPublicKey, hkdfSync, randomBytes, verify } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { LocalKeyProvider } from '../../kernel/crypto/key-provider.js';
import { SigningKey } from '../../kernel/crypto/signing-key.js';
import { rotateRootKey } from '../variables/rotate-root-key.js';
import { openAuditKeys } from './audit-keys.js';
import { openAudit } from './index.js';

/**
 * The audit log's own keys (issue #18): stored wrapped like data keys, so a root-key rotation
 * leaves checkpoints and HMACs valid; on installs from before them, the keys earlier versions
 * derived from the root key are stored as they were; the checkpoint key is published.
 */

const server = useTestServer();

/** JSON with sorted keys: what a checkpoint's signature covers, computed here independently. */
const sortedJson = (value: Record<string, unknown>) => JSON.stringify(Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1))));

/** What versions before migration 0009 computed: HKDF of the root key, the organization id as salt. */
function earlierHmac(rootKey: Buffer, organizationId: string, value: string): string {
  const key = Buffer.from(hkdfSync('sha256', rootKey, Buffer.from(organizationId), 'coffer audit value hmac v1', 32));
  return `hmac-sha256:${createHmac('sha256', key).update(value).digest('hex')}`;
}

async function organization() {
  const { owner, org } = await server.tree();
  const row = await server.db.selectFrom('organizations').select('id').where('slug', '=', org).executeTakeFirstOrThrow();
  return { owner, org, id: row.id };
}

describe('the checkpoint key', () => {
  it('is published, and a checkpoint verifies with it alone, outside Coffer', async () => {
    const { owner, org } = await organization();
    const published = await server.expect(200, 'GET', `/orgs/${org}/audit-events/checkpoint-key`, { token: owner.token });
    expect(published.body).toMatchObject({ algorithm: 'Ed25519', public_key: expect.stringContaining('BEGIN PUBLIC KEY') });
    const { checkpoint, signature, public_key } = (await server.expect(200, 'GET', `/orgs/${org}/audit-events/checkpoint`, { token: owner.token })).body;
    expect(public_key).toBe(published.body.public_key);
    const key = createPublicKey(published.body.public_key);
    expect(verify(null, Buffer.from(sortedJson(checkpoint)), key, Buffer.from(signature, 'base64'))).toBe(true);
    expect(verify(null, Buffer.from(sortedJson({ ...checkpoint, sequence: checkpoint.sequence + 1 })), key, Buffer.from(signature, 'base64'))).toBe(false);
    const viewer = await server.member(owner.token, org, 'VIEWER');
    expect((await server.request('GET', `/orgs/${org}/audit-events/checkpoint-key`, { token: viewer.token })).status).toBe(403);
  });

  it('is stored only wrapped, and is not derived from the root key', async () => {
    const rows = await server.db.selectFrom('audit_keys').selectAll().execute();
    expect(rows.map((row) => row.name).sort()).toEqual(['checkpoint-signing', 'value-hmac']);
    const derived = new SigningKey(SigningKey.derivedSeed(server.rootKey, 'audit checkpoint v1'));
    const { org, owner } = await organization();
    const published = await server.expect(200, 'GET', `/orgs/${org}/audit-events/checkpoint-key`, { token: owner.token });
    expect(published.body.public_key).not.toBe(derived.publicKeyPem());
    for (const row of rows) expect(row.wrapped!.length).toBeGreaterThan(32);
  });
});

describe('an install from before the audit keys (migration 0009)', () => {
  /** Puts the audit keys back in the state migration 0009 leaves on such an install. */
  async function asMigratedEarlierInstall() {
    await sql`delete from audit_keys`.execute(server.db);
    await sql`insert into audit_keys (name) values ('checkpoint-signing')`.execute(server.db);
    await sql`insert into audit_keys (name) select 'value-hmac:' || id::text from organizations`.execute(server.db);
  }

  it('keeps the keys earlier versions derived from the root key: old checkpoints verify, old HMACs match', async () => {
    const { owner, org, id } = await organization();
    await asMigratedEarlierInstall();
    // What an earlier version signed and recorded, computed from the root key as it did.
    const earlierKey = new SigningKey(SigningKey.derivedSeed(server.rootKey, 'audit checkpoint v1'));
    const head = await server.db.selectFrom('audit_chains').selectAll().where('organization_id', '=', id).executeTakeFirstOrThrow();
    const checkpoint = { organization: org, organization_id: id, sequence: Number(head.last_seq), head_hash: head.last_hash.toString('hex'), time: new Date().toISOString() };
    const signed = { checkpoint, signature: earlierKey.sign(sortedJson(checkpoint)) };

    // The next start stores them (wrapped) and uses them.
    const restarted = await openAuditKeys(server.db, server.rootKey, new LocalKeyProvider(server.rootKey));
    expect(restarted.signingKey.publicKeyPem()).toBe(earlierKey.publicKeyPem());
    expect(restarted.valueHmac(id, 'an-earlier-secret-value')).toBe(earlierHmac(server.rootKey, id, 'an-earlier-secret-value'));
    const stored = await server.db.selectFrom('audit_keys').select(['name', 'wrapped']).execute();
    expect(stored.every((row) => row.wrapped !== null)).toBe(true);
    expect(stored.map((row) => row.name)).toEqual(expect.arrayContaining(['checkpoint-signing', 'value-hmac', `value-hmac:${id}`]));

    // A server started now answers with them.
    const audit = await openAudit(server.db, server.rootKey, new LocalKeyProvider(server.rootKey));
    const app = await buildApp({ config: { ...loadConfig({}), logLevel: 'silent' }, db: server.db, rootKey: server.rootKey, audit });
    try {
      const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
        const response = await app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${owner.token}` }, payload: payload as object });
        expect(response.statusCode, response.body).toBeLessThan(300);
        return response.json();
      };
      expect(await call('POST', `/orgs/${org}/audit-events/verify`, { checkpoints: [signed] })).toMatchObject({ ok: true, checkpoints: [{ ok: true }] });
      expect((await call('GET', `/orgs/${org}/audit-events/checkpoint-key`)).public_key).toBe(earlierKey.publicKeyPem());
      await call('POST', `/orgs/${org}/projects/shop/variables`, { key: 'API_KEY', type: 'secret', value: 'an-earlier-secret-value' });
      const [created] = (await call('GET', `/orgs/${org}/audit-events?target_type=variable`)).items;
      expect(created.details.after.value_hmac).toBe(earlierHmac(server.rootKey, id, 'an-earlier-secret-value'));
    } finally {
      await app.close();
    }
  });

  it('a rotation before any start stores them from the old root key, then re-wraps them', async () => {
    const { id } = await organization();
    await asMigratedEarlierInstall();
    const oldKey = server.rootKey;
    const newKey = randomBytes(32);
    await rotateRootKey(server.db, { oldRootKey: oldKey, newRootKey: newKey, oldProvider: new LocalKeyProvider(oldKey), newProvider: new LocalKeyProvider(newKey) });
    const opened = await openAuditKeys(server.db, newKey, new LocalKeyProvider(newKey));
    expect(opened.signingKey.publicKeyPem()).toBe(new SigningKey(SigningKey.derivedSeed(oldKey, 'audit checkpoint v1')).publicKeyPem());
    expect(opened.valueHmac(id, 'v')).toBe(earlierHmac(oldKey, id, 'v'));
    // Rotate back, so the server of this file keeps serving with its own key.
    await rotateRootKey(server.db, { oldRootKey: newKey, newRootKey: oldKey, oldProvider: new LocalKeyProvider(newKey), newProvider: new LocalKeyProvider(oldKey) });
  });
});
