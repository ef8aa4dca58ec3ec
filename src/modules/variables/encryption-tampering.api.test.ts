import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Response } from '../../../test/harness.js';
import { canary, server, ids, variableRow, setCiphertext } from '../../../test/fixtures/encryption.js';

describe('tampered rows', () => {
  async function twoSecrets() {
    const { owner, org } = await server.tree();
    const project = `/orgs/${org}/projects/shop`;
    const valueA = canary('VALA');
    const valueB = canary('VALB');
    const a = await server.expect(201, 'POST', `${project}/variables`, { token: owner.token, payload: { key: 'ALPHA_KEY', type: 'secret', value: valueA } });
    const b = await server.expect(201, 'POST', `${project}/variables`, { token: owner.token, payload: { key: 'BRAVO_KEY', type: 'secret', value: valueB } });
    return { token: owner.token, org, project, valueA, valueB, a: a.body.id as string, b: b.body.id as string };
  }

  /** The management read, the listing and resolution all refuse, naming the variable and never a value. */
  async function expectRefused(
    setup: { token: string; project: string; b: string },
    name: string,
    version: number,
    secrets: string[],
  ) {
    const responses: Response[] = [
      await server.request('GET', `${setup.project}/variables/${setup.b}`, { token: setup.token }),
      await server.request('GET', `${setup.project}/variables`, { token: setup.token }),
      await server.request('GET', `${setup.project}/environments/production/resolve`, { token: setup.token }),
      await server.request('GET', `${setup.project}/environments/production/resolve?format=dotenv`, { token: setup.token }),
    ];
    for (const response of responses) {
      expect(response.status, response.raw.body).toBe(500);
      expect(response.body.error.code).toBe('DECRYPTION_FAILED');
      expect(response.body.error.message).toContain(name);
      expect(response.body.error.message).toContain(`version ${version}`);
      for (const secret of secrets) expect(response.raw.body).not.toContain(secret);
    }
  }

  it("refuses a ciphertext copied from another variable of the same project (same data key)", async () => {
    const setup = await twoSecrets();
    const rowA = await variableRow(setup.a);
    const rowB = await variableRow(setup.b);
    expect(rowA.data_key_id).toBe(rowB.data_key_id);

    await setCiphertext(setup.b, rowA.ciphertext!);
    await expectRefused(setup, 'BRAVO_KEY', 1, [setup.valueA, setup.valueB]);
    // A itself still reads; restoring B's own ciphertext makes it readable again.
    await server.expect(200, 'GET', `${setup.project}/variables/${setup.a}`, { token: setup.token });
    await setCiphertext(setup.b, rowB.ciphertext!);
    const resolved = await server.expect(200, 'GET', `${setup.project}/environments/production/resolve`, { token: setup.token });
    expect(resolved.body.variables).toEqual(
      expect.arrayContaining([expect.objectContaining({ key: 'ALPHA_KEY', value: setup.valueA }), expect.objectContaining({ key: 'BRAVO_KEY', value: setup.valueB })]),
    );
  });

  it('refuses a ciphertext copied from an organization variable (another data key)', async () => {
    const setup = await twoSecrets();
    const orgValue = canary('ORGVAL');
    const orgVariable = await server.expect(201, 'POST', `/orgs/${setup.org}/variables`, {
      token: setup.token,
      payload: { key: 'ORG_KEY', type: 'secret', value: orgValue },
    });
    const orgRow = await variableRow(orgVariable.body.id);
    await setCiphertext(setup.b, orgRow.ciphertext!);
    await expectRefused(setup, 'BRAVO_KEY', 1, [orgValue, setup.valueB]);
  });

  it('refuses a ciphertext with any one byte flipped (version, nonce, body, tag)', async () => {
    const setup = await twoSecrets();
    const original = (await variableRow(setup.b)).ciphertext!;
    for (const position of [0, 1, 12, 13, 13 + 5, original.length - 1]) {
      const flipped = Buffer.from(original);
      flipped[position]! ^= 0x01;
      await setCiphertext(setup.b, flipped);
      await expectRefused(setup, 'BRAVO_KEY', 1, [setup.valueA, setup.valueB]);
    }
    // Truncated to less than an envelope's overhead.
    await setCiphertext(setup.b, original.subarray(0, 20));
    await expectRefused(setup, 'BRAVO_KEY', 1, [setup.valueA, setup.valueB]);
    await setCiphertext(setup.b, original);
    await server.expect(200, 'GET', `${setup.project}/variables/${setup.b}`, { token: setup.token });
  });

  it("refuses an old version's ciphertext replayed onto the current row (the version is bound)", async () => {
    const setup = await twoSecrets();
    const newer = canary('VALB2');
    await server.expect(200, 'PATCH', `${setup.project}/variables/${setup.b}`, { token: setup.token, payload: { value: newer } });
    const current = await variableRow(setup.b);
    expect(current.version).toBe(2);
    const v1 = await server.db
      .selectFrom('variable_versions')
      .select('ciphertext')
      .where('variable_id', '=', setup.b)
      .where('version', '=', 1)
      .executeTakeFirstOrThrow();
    await setCiphertext(setup.b, v1.ciphertext!);
    await expectRefused(setup, 'BRAVO_KEY', 2, [setup.valueA, setup.valueB, newer]);
    // The history itself is intact and still lists (masked).
    const versions = await server.expect(200, 'GET', `${setup.project}/variables/${setup.b}/versions`, { token: setup.token });
    expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  });
});

describe('tampered data keys', () => {
  it('answers DECRYPTION_FAILED naming the data key when a wrapped key does not unwrap', async () => {
    const { owner, org } = await server.tree();
    await server.expect(201, 'POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: 'other' } });
    const { organizationId, projectId } = await ids(org, 'other');
    // A wrapped key this server's root key never made: altered, or from another installation.
    const planted = await server.db
      .insertInto('data_keys')
      .values({ organization_id: organizationId, project_id: projectId, provider: 'local:0000000000000000', wrapped: randomBytes(61) })
      .returning('id')
      .executeTakeFirstOrThrow();
    const refused = await server.request('POST', `/orgs/${org}/projects/other/variables`, { token: owner.token, payload: { key: 'K', type: 'secret', value: 'never-stored-value' } });
    expect(refused.status).toBe(500);
    expect(refused.body.error.code).toBe('DECRYPTION_FAILED');
    expect(refused.body.error.message).toContain(planted.id);
    expect(await server.db.selectFrom('variables').select('id').where('project_id', '=', projectId).execute()).toEqual([]);
  });
});
