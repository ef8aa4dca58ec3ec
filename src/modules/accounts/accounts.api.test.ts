import { describe, expect, it } from 'vitest';
import { TestServer, useTestServer } from '../../../test/harness.js';

const server = useTestServer();

const password = 'correct horse battery staple';

describe('sign-up', () => {
  it('creates an account with a normalised email and never returns the password hash', async () => {
    const email = server.email('Mixed').toUpperCase();
    const response = await server.expect(201, 'POST', '/auth/signup', { payload: { email, password, name: 'Mixed' } });
    expect(response.body.user.email).toBe(email.toLowerCase());
    expect(JSON.stringify(response.body)).not.toMatch(/argon2|password/);
  });

  it('refuses a password shorter than 12 characters with 400 naming body.password', async () => {
    const response = await server.request('POST', '/auth/signup', {
      payload: { email: server.email(), password: 'short', name: 'x' },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body.password' } });
  });

  it('refuses a malformed email with 400 naming body.email', async () => {
    const response = await server.request('POST', '/auth/signup', { payload: { email: 'not-an-email', password, name: 'x' } });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe('body.email');
  });

  it('refuses a second account with the same email with 409', async () => {
    const email = server.email();
    await server.expect(201, 'POST', '/auth/signup', { payload: { email, password, name: 'a' } });
    const again = await server.request('POST', '/auth/signup', { payload: { email: email.toUpperCase(), password, name: 'b' } });
    expect(again.status).toBe(409);
  });
});

describe('login', () => {
  it('returns a session token, sets an HttpOnly SameSite=Lax cookie and authenticates /me', async () => {
    const email = server.email();
    await server.expect(201, 'POST', '/auth/signup', { payload: { email, password, name: 'Ada' } });
    const login = await server.expect(200, 'POST', '/auth/login', { payload: { email, password } });
    expect(login.body.token).toMatch(/^cfs_[A-Za-z0-9_-]{43}$/);
    const cookies = ([] as string[]).concat(login.headers['set-cookie'] ?? []);
    const session = cookies.find((c) => c.startsWith('coffer_session='));
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Lax/);
    expect(session).not.toMatch(/Secure/); // plain HTTP here; Secure is set when served over HTTPS

    const me = await server.expect(200, 'GET', '/me', { token: login.body.token });
    expect(me.body.user).toMatchObject({ email, name: 'Ada' });
  });

  it('issues a new token at every login', async () => {
    const { email } = await server.user();
    const first = await server.expect(200, 'POST', '/auth/login', { payload: { email, password } });
    const second = await server.expect(200, 'POST', '/auth/login', { payload: { email, password } });
    expect(first.body.token).not.toBe(second.body.token);
  });

  it('answers a wrong password and an unknown email with the same 401 message', async () => {
    const { email } = await server.user();
    const wrong = await server.request('POST', '/auth/login', { payload: { email, password: 'wrong password!!' } });
    const unknown = await server.request('POST', '/auth/login', { payload: { email: server.email('ghost'), password } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
  });
});

describe('sessions', () => {
  it('refuses /me without credentials, with a malformed header, or with an unknown token (401)', async () => {
    expect((await server.request('GET', '/me')).status).toBe(401);
    expect((await server.request('GET', '/me', { headers: { authorization: 'Basic abc' } })).status).toBe(401);
    expect((await server.request('GET', '/me', { token: 'cfs_unknown' })).status).toBe(401);
  });

  it('accepts the token as Authorization: Token as well as Bearer', async () => {
    const { token } = await server.user();
    await server.expect(200, 'GET', '/me', { headers: { authorization: `Token ${token}` } });
  });

  it('ends the session at logout: the token no longer works', async () => {
    const { token } = await server.user();
    await server.expect(204, 'POST', '/auth/logout', { token });
    expect((await server.request('GET', '/me', { token })).status).toBe(401);
  });

  it('lists the live sessions and revokes another one', async () => {
    const { email, token } = await server.user();
    const other = await server.expect(200, 'POST', '/auth/login', { payload: { email, password } });
    await server.expect(200, 'GET', '/me', { token: other.body.token }); // now cached
    const sessions = await server.expect(200, 'GET', '/me/sessions', { token });
    expect(sessions.body.items).toHaveLength(2);
    const otherSession = sessions.body.items.find((s: { current: boolean }) => !s.current);
    await server.expect(204, 'DELETE', `/me/sessions/${otherSession.id}`, { token });
    expect((await server.request('GET', '/me', { token: other.body.token })).status).toBe(401);
    await server.expect(200, 'GET', '/me', { token });
  });

  it("cannot revoke another user's session (404)", async () => {
    const alice = await server.user('alice');
    const bob = await server.user('bob');
    const bobs = await server.expect(200, 'GET', '/me/sessions', { token: bob.token });
    const response = await server.request('DELETE', `/me/sessions/${bobs.body.items[0].id}`, { token: alice.token });
    expect(response.status).toBe(404);
    await server.expect(200, 'GET', '/me', { token: bob.token });
  });

  it('stores only a hash of the session token', async () => {
    const { token } = await server.user();
    const rows = await server.db.selectFrom('sessions').select('token_hash').execute();
    for (const row of rows) expect(row.token_hash.toString('utf8')).not.toContain(token.slice(4, 20));
    expect(rows.every((row) => Buffer.isBuffer(row.token_hash) && row.token_hash.length === 32)).toBe(true);
  });

  it('expires a session past its idle timeout', async () => {
    const { token, id } = await server.user();
    await server.db
      .updateTable('sessions')
      .set({ last_seen_at: new Date(Date.now() - 3 * 3600 * 1000) })
      .where('user_id', '=', id)
      .execute();
    expect((await server.request('GET', '/me', { token })).status).toBe(401);
  });

  it('expires a session past its absolute lifetime', async () => {
    const { token, id } = await server.user();
    await server.db.updateTable('sessions').set({ expires_at: new Date(Date.now() - 1000) }).where('user_id', '=', id).execute();
    expect((await server.request('GET', '/me', { token })).status).toBe(401);
  });
});

describe('sessions across instances', () => {
  it.runIf(process.env.COFFER_TEST_BACKEND === 'postgres')(
    'refuses a session on every instance on the request after it is revoked on one',
    async () => {
      const sibling = await server.sibling();
      try {
        const { token } = await server.user();
        await sibling.expect(200, 'GET', '/me', { token }); // cached on the sibling
        await server.expect(204, 'POST', '/auth/logout', { token });
        // NOTIFY is asynchronous: the sibling must not answer 200 from its cache once it has arrived.
        for (let attempt = 0; attempt < 50 && (await sibling.request('GET', '/me', { token })).status === 200; attempt++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect((await sibling.request('GET', '/me', { token })).status).toBe(401);
      } finally {
        await sibling.close();
      }
    },
  );
});

describe('cookie sessions and CSRF', () => {
  it('authenticates reads by cookie but refuses a state-changing request without X-CSRF-Token', async () => {
    const { token, csrf } = await server.user();
    const cookies = { coffer_session: token };
    await server.expect(200, 'GET', '/me', { cookies });

    const refused = await server.request('POST', '/orgs', { cookies, payload: { slug: server.slug('o') } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('CSRF_FAILED');

    const forged = await server.request('POST', '/orgs', {
      cookies,
      headers: { 'x-csrf-token': 'forged' },
      payload: { slug: server.slug('o') },
    });
    expect(forged.status).toBe(403);

    await server.expect(201, 'POST', '/orgs', { cookies, headers: { 'x-csrf-token': csrf }, payload: { slug: server.slug('o') } });
  });

  it('does not ask bearer-token requests for a CSRF token', async () => {
    const { token } = await server.user();
    await server.expect(201, 'POST', '/orgs', { token, payload: { slug: server.slug('o') } });
  });
});

describe('closed sign-up', () => {
  it('lets the very first user in, then refuses strangers but admits invited emails', async () => {
    const closed = await TestServer.start({ signup: 'closed' });
    try {
      const first = closed.email('first');
      await closed.expect(201, 'POST', '/auth/signup', { payload: { email: first, password, name: 'First' } });
      const stranger = await closed.request('POST', '/auth/signup', { payload: { email: closed.email(), password, name: 's' } });
      expect(stranger.status).toBe(403);
      expect(stranger.body.error.code).toBe('SIGNUP_CLOSED');

      const login = await closed.expect(200, 'POST', '/auth/login', { payload: { email: first, password } });
      const org = closed.slug('org');
      await closed.expect(201, 'POST', '/orgs', { token: login.body.token, payload: { slug: org } });
      const invited = closed.email('invited');
      await closed.expect(201, 'POST', `/orgs/${org}/invitations`, {
        token: login.body.token,
        payload: { email: invited, role: 'VIEWER' },
      });
      await closed.expect(201, 'POST', '/auth/signup', { payload: { email: invited, password, name: 'Invited' } });
    } finally {
      await closed.close();
    }
  });
});
