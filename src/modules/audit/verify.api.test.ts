import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../../test/harness.js';
import { SigningKey } from '../../kernel/crypto/signing-key.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { createAuditRepo } from './repo.js';
import { createAuditService } from './service.js';

const server = useTestServer();

describe('verify while events are appended (issue #18)', () => {
  it('checks the chain up to the head it read first: an event appended meanwhile is no break', async () => {
    const { owner, org } = await server.tree();
    const organization = await server.db.selectFrom('organizations').selectAll().where('slug', '=', org).executeTakeFirstOrThrow();
    const before = await server.expect(200, 'GET', `/orgs/${org}/audit-events/verify`, { token: owner.token });
    expect(before.body.ok).toBe(true);

    // Right after verification reads the chain's head, someone changes something (and its event is appended).
    const repo = createAuditRepo(server.db);
    let appended = 0;
    const racing = {
      ...repo,
      chain: async (organizationId: string) => {
        const head = await repo.chain(organizationId);
        await server.expect(201, 'POST', `/orgs/${org}/projects`, { token: owner.token, payload: { slug: `late-${++appended}` } });
        return head;
      },
    };
    const audit = createAuditService({ db: server.db, signingKey: new SigningKey(randomBytes(32)), repo: racing });
    const result = await audit.verifyChain({ scope: { organization } } as unknown as RequestAccess);
    expect(appended).toBe(1);
    expect(result).toEqual({ ok: true, checked: before.body.checked });

    // The next verification covers the late event too.
    const after = await server.expect(200, 'GET', `/orgs/${org}/audit-events/verify`, { token: owner.token });
    expect(after.body).toEqual({ ok: true, checked: before.body.checked + 1 });
  });
});
