import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer } from '../../../test/harness.js';
import type { Config } from '../../config.js';

/**
 * Sign-up, login and invitation acceptance are limited per client IP and per email, counted
 * in the database before the attempt is judged (issue #18 items 10 and 20).
 */

const password = 'correct horse battery staple';
const wrong = 'not the password, a guess';

const limits: Config['rateLimits'] = {
  signup: { perIp: 3, perEmail: 2, windowSeconds: 3600 },
  login: { perIp: 15, perEmail: 10, windowSeconds: 900 },
  invitationAccept: { perIp: 3, perEmail: 100, windowSeconds: 3600 },
};

let server: TestServer;
beforeAll(async () => {
  server = await TestServer.start({ rateLimits: limits });
});
afterAll(() => server.close());

// Each test sends from its own loopback addresses, so no test spends another's allowance.
// (app.inject: the address is only a label on an in-process request.)
let hosts = 0;
const newIp = () => `127.0.${Math.floor(++hosts / 250)}.${(hosts % 250) + 1}`;

interface Sent {
  status: number;
  retryAfter: string | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever the API sent
  body: any;
}

async function send(target: TestServer, ip: string, method: string, url: string, options: { payload?: unknown; token?: string } = {}): Promise<Sent> {
  const response = await target.app.inject({
    method: method as 'POST',
    url: `/api/v1${url}`,
    remoteAddress: ip,
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    ...(options.payload === undefined ? {} : { payload: options.payload as object }),
  });
  const retryAfter = response.headers['retry-after'];
  return { status: response.statusCode, retryAfter: retryAfter === undefined ? undefined : String(retryAfter), body: response.body ? JSON.parse(response.body) : null };
}

async function account(target: TestServer = server): Promise<{ email: string; token: string }> {
  const email = target.email();
  expect((await send(target, newIp(), 'POST', '/auth/signup', { payload: { email, password, name: 'n' } })).status).toBe(201);
  const login = await send(target, newIp(), 'POST', '/auth/login', { payload: { email, password } });
  expect(login.status).toBe(200);
  return { email, token: login.body.token };
}

function expectLimited(response: Sent) {
  expect(response.status).toBe(429);
  expect(response.body.error).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/try again in \d+ s/) });
  expect(Number(response.retryAfter)).toBeGreaterThan(0);
}

describe('login', () => {
  it('counts failed attempts per email and then refuses even the right password with 429 and Retry-After', async () => {
    const { email } = await account();
    for (let i = 0; i < limits.login.perEmail; i++) {
      expect((await send(server, newIp(), 'POST', '/auth/login', { payload: { email, password: wrong } })).status).toBe(401);
    }
    expectLimited(await send(server, newIp(), 'POST', '/auth/login', { payload: { email, password } }));
  });

  it('counts concurrent wrong passwords before checking them: 40 at once with a limit of 10 get at least 30 refusals', async () => {
    const { email } = await account();
    const ip = newIp();
    const responses = await Promise.all(
      Array.from({ length: 40 }, () => send(server, ip, 'POST', '/auth/login', { payload: { email, password: wrong } })),
    );
    const limited = responses.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(40 - limits.login.perEmail);
    for (const response of limited) expectLimited(response);
    expect(responses.every((r) => r.status === 401 || r.status === 429)).toBe(true);
  });

  it('starts the count of an email over after a successful login', async () => {
    const { email } = await account();
    const fail = async () => (await send(server, newIp(), 'POST', '/auth/login', { payload: { email, password: wrong } })).status;
    for (let i = 0; i < limits.login.perEmail - 1; i++) expect(await fail()).toBe(401);
    expect((await send(server, newIp(), 'POST', '/auth/login', { payload: { email, password } })).status).toBe(200);
    for (let i = 0; i < limits.login.perEmail - 1; i++) expect(await fail()).toBe(401);
  });

  it('counts failures per address across emails; another address is not affected', async () => {
    const ip = newIp();
    for (let i = 0; i < limits.login.perIp; i++) {
      expect((await send(server, ip, 'POST', '/auth/login', { payload: { email: server.email('ghost'), password: wrong } })).status).toBe(401);
    }
    expectLimited(await send(server, ip, 'POST', '/auth/login', { payload: { email: server.email('ghost'), password: wrong } }));
    expect((await send(server, newIp(), 'POST', '/auth/login', { payload: { email: server.email('ghost'), password: wrong } })).status).toBe(401);
  });

  it('keeps no email or address in clear in the counters', async () => {
    const { email } = await account();
    await send(server, '127.9.9.9', 'POST', '/auth/login', { payload: { email, password: wrong } });
    const rows = await server.db.selectFrom('rate_limits').select('key').execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((row) => row.key.includes(email) || row.key.includes('127.9.9.9'))).toBe(false);
  });
});

describe('sign-up', () => {
  it('limits sign-ups per address with 429 and Retry-After; another address may still sign up', async () => {
    const ip = newIp();
    for (let i = 0; i < limits.signup.perIp; i++) {
      expect((await send(server, ip, 'POST', '/auth/signup', { payload: { email: server.email(), password, name: 'n' } })).status).toBe(201);
    }
    const refused = await send(server, ip, 'POST', '/auth/signup', { payload: { email: server.email(), password, name: 'n' } });
    expectLimited(refused);
    expect((await send(server, newIp(), 'POST', '/auth/signup', { payload: { email: server.email(), password, name: 'n' } })).status).toBe(201);
  });

  it('limits sign-ups per email, whatever the address', async () => {
    const email = server.email();
    const attempt = () => send(server, newIp(), 'POST', '/auth/signup', { payload: { email, password, name: 'n' } });
    expect((await attempt()).status).toBe(201);
    expect((await attempt()).status).toBe(409);
    expectLimited(await attempt());
  });

  it('counts concurrent sign-ups from one address before creating any account', async () => {
    const ip = newIp();
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => send(server, ip, 'POST', '/auth/signup', { payload: { email: server.email(), password, name: 'n' } })),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(limits.signup.perIp);
    for (const response of responses.filter((r) => r.status !== 201)) expectLimited(response);
  });
});

describe('invitation acceptance', () => {
  it('limits failed acceptances per address with 429 and Retry-After', async () => {
    const { token } = await account();
    const ip = newIp();
    for (let i = 0; i < limits.invitationAccept.perIp; i++) {
      expect((await send(server, ip, 'POST', `/invitations/cfi_guess${i}/accept`, { token })).status).toBe(404);
    }
    expectLimited(await send(server, ip, 'POST', '/invitations/cfi_guess/accept', { token }));
  });

  it('does not count acceptances that succeed', async () => {
    const owner = await account();
    const org = server.slug('org');
    expect((await send(server, newIp(), 'POST', '/orgs', { token: owner.token, payload: { slug: org } })).status).toBe(201);
    const ip = newIp();
    for (let i = 0; i <= limits.invitationAccept.perIp; i++) {
      const invitee = await account();
      const invitation = await send(server, newIp(), 'POST', `/orgs/${org}/invitations`, {
        token: owner.token,
        payload: { email: invitee.email, role: 'VIEWER' },
      });
      expect((await send(server, ip, 'POST', `/invitations/${invitation.body.token}/accept`, { token: invitee.token })).status).toBe(200);
    }
  });
});

describe('across instances', () => {
  it.runIf(process.env.COFFER_TEST_BACKEND === 'postgres')(
    'shares one count: 40 concurrent wrong passwords over two instances with a limit of 10 get at least 30 refusals',
    async () => {
      const sibling = await server.sibling({ rateLimits: limits });
      try {
        const { email } = await account();
        const responses = await Promise.all(
          Array.from({ length: 40 }, (_, i) => send(i % 2 === 0 ? server : sibling, newIp(), 'POST', '/auth/login', { payload: { email, password: wrong } })),
        );
        const limited = responses.filter((r) => r.status === 429);
        expect(limited.length).toBeGreaterThanOrEqual(40 - limits.login.perEmail);
        for (const response of limited) expectLimited(response);
        // The sibling refuses what the first instance counted, and the other way round.
        expectLimited(await send(sibling, newIp(), 'POST', '/auth/login', { payload: { email, password } }));
        expectLimited(await send(server, newIp(), 'POST', '/auth/login', { payload: { email, password } }));
      } finally {
        await sibling.close();
      }
    },
  );
});
