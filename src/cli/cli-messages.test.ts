import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PASSWORD, PLACE, server, url, fresh, coffer, ok, setup, node } from '../../test/cli.js';

/**
 * Messages that name the thing and the fix (issue #11): what the person asked for, in the words
 * they typed it, never the API's field names or a raw ENOENT.
 */
const owner = (tree: { owner: { token: string }; org: string }) => ({ token: tree.owner.token, env: { COFFER_ORG: tree.org } });

describe('not found names what was asked for', () => {
  it('an unknown project is named with its organization (exit 5)', async () => {
    const tree = await setup();
    const result = await coffer(['vars', 'ls', '--path', 'nope/production'], owner(tree));
    expect(result.stderr).toContain(`Project "nope" not found in organization "${tree.org}"`);
    expect(result.code).toBe(5);
  });

  it('an unknown environment and service are named with where they were looked for', async () => {
    const tree = await setup();
    const env = await coffer(['vars', 'ls', '--path', 'shop/staging'], owner(tree));
    expect(env.stderr).toContain(`Environment "staging" not found in project "shop" of organization "${tree.org}"`);
    const service = await coffer(['run', '--path', 'shop/production/frontend', '--', ...node('0')], owner(tree));
    expect(service.stderr).toContain(`Service "frontend" not found in shop/production of organization "${tree.org}"`);
    expect(service.code).toBe(5);
  });

  it('an unknown organization lists the ones the person belongs to; a token says its own', async () => {
    const tree = await setup();
    const result = await coffer(['projects', 'ls', '--org', 'no-such-org'], { token: tree.owner.token });
    expect(result.stderr).toContain(`Organization "no-such-org" not found (you belong to: ${tree.org})`);
    expect(result.code).toBe(5);
    const byToken = await coffer(['export', '--org', 'no-such-org', '--path', PLACE], { token: tree.ci });
    expect(byToken.stderr).toContain(`Organization "no-such-org" not found (this token belongs to "${tree.org}")`);
  });
});

describe('API field names do not leak', () => {
  it('a key the server refuses is named as the key, with the rule to follow (exit 6)', async () => {
    const tree = await setup();
    const result = await coffer(['vars', 'set', '--path', 'shop/production', 'lowercase=x'], owner(tree));
    expect(result.stderr).toContain('Key "lowercase" is not valid: use A–Z, 0–9 and _ and do not start with a digit');
    expect(result.stderr).not.toContain('body.');
    expect(result.code).toBe(6);
  });

  it('a slug, a past --expires-at and an unknown --preset are named as typed', async () => {
    const tree = await setup();
    const slug = await coffer(['projects', 'create', 'My Shop'], owner(tree));
    expect(slug.stderr).toContain('Slug "My Shop" is not valid: use a–z, 0–9 and -');
    const past = new Date(Date.now() - 86_400_000).toISOString();
    const expiry = await coffer(['tokens', 'create', 'late', '--preset', 'ci', '--expires-at', past], owner(tree));
    expect(expiry.stderr).toContain(`--expires-at "${past}" is not valid: must be in the future`);
    const preset = await coffer(['tokens', 'create', 'odd', '--preset', 'everything'], owner(tree));
    expect(preset.stderr).toMatch(/--preset "everything" is not valid: must be one of/);
    for (const result of [slug, expiry, preset]) {
      expect(result.stderr).not.toMatch(/body\.|params\./);
      expect(result.code).toBe(6);
    }
  });

  it('never quotes back a refused value of a secret', async () => {
    const tree = await setup();
    const big = 'S3CRET'.repeat(20_000); // over 64 KiB
    const result = await coffer(['vars', 'set', '--path', 'shop/production', '--secret', `BIG=${big}`], owner(tree));
    expect(result.code).toBe(6);
    expect(result.stderr).not.toContain('S3CRETS3CRET');
  });
});

describe('vars set arguments', () => {
  it('an argument without "=" is a usage error saying so, without echoing it (exit 2)', async () => {
    const tree = await setup();
    const result = await coffer(['vars', 'set', '--path', 'shop/production', 'NOEQUALS'], owner(tree));
    expect(result.stderr).toContain('Argument 1 has no "=": write it as KEY=VALUE');
    expect(result.stderr).not.toContain('NOEQUALS');
    expect(result.code).toBe(2);
  });

  it('a secret pasted without a key (base64 padding as its "=") is not quoted back', async () => {
    const tree = await setup();
    const result = await coffer(['vars', 'set', '--path', 'shop/production', '--secret', 'c2VjcmV0LXZhbHVlLTQy=='], owner(tree));
    expect(result.stderr).toContain('Argument 1 is not KEY=VALUE');
    expect(result.stderr).not.toContain('c2VjcmV0LXZhbHVlLTQy');
    expect(result.code).toBe(2);
  });

  it('--file KEY=@missing.pem names the missing file (exit 2), never ENOENT', async () => {
    const tree = await setup();
    const missing = path.join(fresh('nofile'), 'missing.pem');
    const result = await coffer(['vars', 'set', '--path', 'shop/production', '--file', `TLS_CERT=@${missing}`, '--mount-path', '/etc/tls/cert.pem'], owner(tree));
    expect(result.stderr).toContain(`--file TLS_CERT=@${missing}: cannot read ${missing}`);
    expect(result.stderr).toContain('there is no such file');
    expect(result.stderr).not.toContain('ENOENT');
    expect(result.code).toBe(2);
    const imported = await coffer(['vars', 'import', missing, '--path', 'shop/production'], owner(tree));
    expect(imported.stderr).toContain('there is no such file');
    expect(imported.stderr).not.toContain('ENOENT');
    expect(imported.code).toBe(2);
  });
});

describe('refused credentials say why', () => {
  it('a revoked token says it was revoked and when, not "run coffer login" (exit 3)', async () => {
    const tree = await setup();
    const { id, token } = await server.mint(tree.owner.token, tree.org, { preset: 'ci' });
    await server.expect(204, 'DELETE', `/orgs/${tree.org}/tokens/${id}`, { token: tree.owner.token });
    const result = await coffer(['run', '--path', PLACE, '--', ...node('0')], { token, env: { COFFER_ORG: tree.org } });
    expect(result.stderr).toMatch(/This API token was revoked on \d{4}-\d\d-\d\dT[\d:.]+Z: ask an organization admin for a new token/);
    expect(result.stderr).not.toContain('coffer login');
    expect(result.code).toBe(3);
  });

  it('an expired token says it expired and when', async () => {
    const tree = await setup();
    const { id, token } = await server.mint(tree.owner.token, tree.org, { preset: 'ci', expires_at: new Date(Date.now() + 3600_000).toISOString() });
    const past = new Date(Date.now() - 60_000);
    await server.db.updateTable('api_tokens').set({ expires_at: past }).where('id', '=', id).execute();
    const result = await coffer(['export', '--path', PLACE], { token, env: { COFFER_ORG: tree.org } });
    expect(result.stderr).toContain(`This API token expired on ${past.toISOString()}`);
    expect(result.code).toBe(3);
  });
});

describe('a wrong COFFER_URL', () => {
  async function impostor(respond: (response: http.ServerResponse) => void) {
    const other = http.createServer((_request, response) => respond(response));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const { port } = other.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => other.close(resolve)) };
  }

  it('something that answers but is not Coffer is named, with what it answered', async () => {
    const tree = await setup();
    for (const respond of [
      (response: http.ServerResponse) => response.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>'),
      (response: http.ServerResponse) => response.writeHead(200, { 'content-type': 'text/html' }).end('<html>welcome</html>'),
    ]) {
      const other = await impostor(respond);
      try {
        const result = await coffer(['run', '--path', PLACE, '--', ...node('0')], { token: tree.ci, env: { COFFER_URL: other.url, COFFER_ORG: tree.org } });
        expect(result.stderr).toContain(`The server at ${other.url} is not a Coffer server`);
        expect(result.stderr).toMatch(/answered GET \/api\/v1\/orgs\/.* with (404|200) \(text\/html\)/);
        expect(result.stderr).toContain('COFFER_URL');
        expect(result.code).toBe(1);
        const exported = await coffer(['export', '--path', PLACE], { token: tree.ci, env: { COFFER_URL: other.url, COFFER_ORG: tree.org } });
        expect(exported.stderr).toContain(`The server at ${other.url} is not a Coffer server`);
        expect(exported.stdout).toBe('');
        expect(exported.code).toBe(1);
      } finally {
        await other.close();
      }
    }
  });

  it('a session kept for another server says which server was tried and which one the session is for', async () => {
    const tree = await setup();
    const configDir = fresh('cfg');
    await ok(['login', '--email', tree.owner.email], { configDir, input: `${PASSWORD}\n` });
    const elsewhere = 'http://127.0.0.1:9';
    const result = await coffer(['orgs', 'ls'], { configDir, env: { COFFER_URL: elsewhere } });
    expect(result.stderr).toContain(`Not signed in to ${elsewhere} (from COFFER_URL): your stored session is for ${url}`);
    expect(result.code).toBe(3);
  });
});

describe('coffer logout', () => {
  it('does not claim success when the server could not end the session: local copy removed, exit 1', async () => {
    const tree = await setup();
    const configDir = fresh('cfg');
    await ok(['login', '--email', tree.owner.email], { configDir, input: `${PASSWORD}\n` });
    const file = path.join(configDir, 'credentials.json');
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { url: string; token: string };
    // The same session, kept as if signed in to a server that is now unreachable.
    fs.writeFileSync(file, JSON.stringify({ ...stored, url: 'http://127.0.0.1:1' }));
    const result = await coffer(['logout'], { configDir });
    expect(result.stderr).toContain('Removed the local credentials, but http://127.0.0.1:1 could not end the session');
    expect(result.stderr).toContain('stays valid until it expires');
    expect(result.stderr).not.toContain('Signed out');
    expect(result.code).toBe(1);
    expect(fs.existsSync(file)).toBe(false);
    // And indeed it is still valid.
    expect((await server.request('GET', '/me', { token: stored.token })).status).toBe(200);
  });

  it('an already ended session signs out without an error', async () => {
    const tree = await setup();
    const configDir = fresh('cfg');
    await ok(['login', '--email', tree.owner.email], { configDir, input: `${PASSWORD}\n` });
    const { token } = JSON.parse(fs.readFileSync(path.join(configDir, 'credentials.json'), 'utf8')) as { token: string };
    await server.expect(204, 'POST', '/auth/logout', { token });
    const result = await ok(['logout'], { configDir });
    expect(result.stderr).toContain('the session had already ended');
  });
});
