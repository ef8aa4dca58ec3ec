import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, callListening, type RequestOptions } from '../../../test/harness.js';
import { loadConfig } from '../../config.js';
import { runServer } from '../../server.js';
import { postgres, canary, memoryLogger } from '../../../test/fixtures/encryption.js';

describe('logs and error bodies', () => {
  it('never carry a secret, through writes, resolutions, rollbacks and error paths', async () => {
    const { logger, lines } = memoryLogger();
    const logged = await TestServer.start({}, logger);
    const bodies: { label: string; status: number; body: string }[] = [];
    try {
      const { owner, org } = await logged.tree();
      const token = owner.token;
      const project = `/orgs/${org}/projects/shop`;
      const env = `${project}/environments/production`;
      const svc = `${env}/services/backend`;
      const secrets: string[] = [];
      const secretValue = (label: string) => {
        const value = canary(label);
        secrets.push(value);
        return value;
      };
      /** Sends the request and keeps its body; resolutions answer secrets by design, so only other bodies are checked. */
      const send = async (status: number, method: string, url: string, options: RequestOptions = {}) => {
        const response = await logged.request(method, url, { token, ...options });
        expect(response.status, `${method} ${url}: ${response.raw.body}`).toBe(status);
        if (!url.includes('/resolve')) bodies.push({ label: `${method} ${url}`, status, body: response.raw.body });
        return response;
      };

      // Writes and reads that succeed.
      const secret = await send(201, 'POST', `${project}/variables`, { payload: { key: 'API_KEY', type: 'secret', value: secretValue('S1') } });
      await send(201, 'POST', `${env}/variables`, { payload: { key: 'CERT', type: 'file', value: secretValue('F1'), mount_path: '/etc/cert.pem' } });
      const pg = await send(201, 'POST', `${svc}/variables`, {
        payload: { type: 'pg_service', pg_service: { service: 'main', host: 'db', user: 'app', password: secretValue('PG1') } },
      });
      const s2 = secretValue('S2');
      const pg2 = secretValue('PG2');
      await send(200, 'PATCH', `${project}/variables/${secret.body.id}`, { payload: { value: s2 } });
      await send(200, 'PATCH', `${svc}/variables/${pg.body.id}`, { payload: { value: `[main]\nhost=db\nuser=app\npassword=${pg2}\n` } });
      const immutable = await send(201, 'POST', `${project}/variables`, { payload: { key: 'FROZEN', type: 'secret', value: secretValue('IM'), immutable: true } });
      for (const format of ['json', 'env-json', 'dotenv', 'docker', 'shell', 'yaml', 'pg_service']) {
        const resolved = await send(200, 'GET', `${svc}/resolve?format=${format}`);
        expect(resolved.raw.body).toContain(format === 'pg_service' ? pg2 : s2);
      }
      await send(200, 'GET', `${project}/variables`);
      await send(200, 'GET', `${project}/variables/${secret.body.id}`);
      await send(200, 'GET', `${project}/variables/${secret.body.id}/versions`);
      await send(200, 'POST', `${project}/variables/${secret.body.id}/rollback`, { payload: { version: 1 } });
      await send(204, 'DELETE', `${project}/variables/${secret.body.id}`);
      await send(200, 'POST', `${project}/variables/${secret.body.id}/rollback`, { payload: { version: 2 } });
      await send(200, 'GET', `${env}/resolve`);

      // Refusals carrying a secret in the request.
      await send(400, 'POST', `${project}/variables`, { payload: { key: 'lowercase', type: 'secret', value: secretValue('BADKEY') } });
      await send(400, 'POST', `${project}/variables`, { payload: { key: 'OK_KEY', type: 'secret', value: secretValue('EXTRA'), bogus: secretValue('BOGUS') } });
      await send(400, 'POST', `${project}/variables`, { payload: { key: 'NUL_KEY', type: 'secret', value: `${secretValue('NUL')}\0` } });
      await send(400, 'POST', `${project}/variables`, { payload: { key: 'NO_MOUNT', type: 'file', value: secretValue('NOMOUNT') } });
      await send(400, 'POST', `${project}/variables`, { payload: { key: 'BAD_TYPE', type: secretValue('TYPE'), value: secretValue('TYPEVAL') } });
      await send(400, 'POST', `${project}/variables`, { payload: { key: 'NUM', type: 'secret', value: 12345, extra: secretValue('NUMX') } });
      await send(400, 'POST', `${svc}/variables`, {
        payload: { type: 'pg_service', value: `[other]\nhost=db\npassword ${secretValue('PGLINE')}\n` },
      });
      await send(400, 'POST', `${svc}/variables`, {
        payload: { type: 'pg_service', value: `[other]\nnot_a_keyword=${secretValue('PGKW')}\n` },
      });
      await send(400, 'POST', `${svc}/variables`, {
        payload: { type: 'pg_service', pg_service: { service: 'other', password: `${secretValue('PGWS')} ` } },
      });
      await send(400, 'POST', `${svc}/variables`, {
        payload: { type: 'pg_service', pg_service: { service: 'other', extra: { [secretValue('PGEXTRAKW')]: secretValue('PGEXTRAV') } } },
      });
      await send(409, 'POST', `${project}/variables`, { payload: { key: 'FROZEN', type: 'secret', value: secretValue('DUP') } });
      await send(409, 'PATCH', `${project}/variables/${immutable.body.id}`, { payload: { value: secretValue('IMPATCH') } });
      await send(400, 'PATCH', `${project}/variables/${immutable.body.id}`, { payload: { value: secretValue('PATCHX'), bogus: true } });
      await send(400, 'POST', `${project}/variables`, {
        payload: `{"key":"BROKEN","type":"secret","value":"${secretValue('JSON')}"`,
      });
      await send(415, 'POST', `${project}/variables`, {
        payload: `key=TEXT&value=${secretValue('TEXT')}`,
        headers: { 'content-type': 'text/plain' },
      });
      // A missing reference is refused at resolution, naming the keys involved only.
      await send(201, 'POST', `${svc}/variables`, { payload: { key: 'REFERS', type: 'secret', value: `${secretValue('REF')}-\${MISSING_ONE}` } });
      const unresolved = await send(422, 'GET', `${svc}/resolve`);
      bodies.push({ label: 'unresolved', status: 422, body: unresolved.raw.body });

      // A tampered row: every read of it fails with 500, and so does a write over it.
      const tampered = await send(201, 'POST', `${project}/variables`, { payload: { key: 'TAMPERED', type: 'secret', value: secretValue('TAMPER') } });
      const other = await logged.db.selectFrom('variables').select('ciphertext').where('id', '=', immutable.body.id).executeTakeFirstOrThrow();
      await logged.db.updateTable('variables').set({ ciphertext: other.ciphertext }).where('id', '=', tampered.body.id).execute();
      await send(500, 'GET', `${project}/variables/${tampered.body.id}`);
      await send(500, 'GET', `${project}/variables`);
      await send(500, 'PATCH', `${project}/variables/${tampered.body.id}`, { payload: { value: secretValue('OVERWRITE') } });
      const failed = await send(500, 'GET', `${env}/resolve`);
      bodies.push({ label: 'resolve of a tampered row', status: 500, body: failed.raw.body });

      // The capture works: request lines and the 500s' error lines are there.
      await new Promise((resolve) => setImmediate(resolve));
      const text = lines.join('');
      expect(text).toContain('"statusCode":500');
      expect(text).toContain('DECRYPTION_FAILED');
      expect(logger.level).toBe('debug');
      expect(text).toContain('"msg":"incoming request"');

      expect(secrets.length).toBeGreaterThan(25);
      for (const value of secrets) {
        const leakingLines = lines.filter((line) => line.includes(value));
        expect(leakingLines, `log lines carrying ${value}`).toEqual([]);
        const leakingBodies = bodies.filter((b) => b.body.includes(value));
        expect(leakingBodies, `response bodies carrying ${value}`).toEqual([]);
      }
    } finally {
      await logged.close();
    }
  });
});

describe.skipIf(postgres)('the data directory (embedded PGlite)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-at-rest-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function filesUnder(root: string): string[] {
    return fs.readdirSync(root, { withFileTypes: true, recursive: true }).filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
  }

  it('holds no secret in any file after the server wrote and read it', async () => {
    const { logger, lines } = memoryLogger();
    const config = loadConfig({
      PORT: '0',
      COFFER_DATA_DIR: path.join(dir, 'data'),
      COFFER_CHECKPOINT_DIR: path.join(dir, 'checkpoints'),
    });
    const secrets = [canary('DISK1'), canary('DISK2'), canary('DISKPG'), canary('DISKFILE')];
    const running = await runServer(config, logger);
    try {
      const call = (method: string, url: string, body?: unknown, token?: string) => callListening(running.address, method, url, body, token);
      const credentials = { email: 'disk@example.test', password: 'correct horse battery staple' };
      await call('POST', '/auth/signup', { ...credentials, name: 'disk' });
      const token = (await call('POST', '/auth/login', credentials)).token as string;
      await call('POST', '/orgs', { slug: 'disk' }, token);
      await call('POST', '/orgs/disk/projects', { slug: 'shop' }, token);
      await call('POST', '/orgs/disk/projects/shop/environments', { slug: 'production', type: 'PRODUCTION' }, token);
      await call('POST', '/orgs/disk/variables', { key: 'ORG_SECRET', type: 'secret', value: secrets[0] }, token);
      const created = await call('POST', '/orgs/disk/projects/shop/variables', { key: 'API_KEY', type: 'secret', value: 'first version' }, token);
      await call('PATCH', `/orgs/disk/projects/shop/variables/${String(created.id)}`, { value: secrets[1] }, token);
      await call('POST', '/orgs/disk/projects/shop/environments/production/variables', {
        type: 'pg_service',
        pg_service: { service: 'main', host: 'db', user: 'app', password: secrets[2] },
      }, token);
      await call('POST', '/orgs/disk/projects/shop/environments/production/variables', { key: 'CERT', type: 'file', value: secrets[3], mount_path: '/etc/cert' }, token);
      const resolved = JSON.stringify(await call('GET', '/orgs/disk/projects/shop/environments/production/resolve', undefined, token));
      for (const secret of secrets) expect(resolved).toContain(secret);
    } finally {
      await running.close();
    }

    const files = filesUnder(dir);
    // Sanity: the database, the root key and the checkpoints are all under the scanned directory.
    expect(files.some((file) => file.endsWith(path.join('data', 'root.key')))).toBe(true);
    expect(files.filter((file) => file.includes(`${path.sep}pgdata${path.sep}`)).length).toBeGreaterThan(10);
    // The scan reads what the database wrote in clear: the account's email is on disk.
    expect(files.some((file) => fs.readFileSync(file).includes(Buffer.from('disk@example.test')))).toBe(true);
    for (const secret of secrets) {
      const needle = Buffer.from(secret, 'utf8');
      expect(files.filter((file) => fs.readFileSync(file).includes(needle)), `files holding ${secret}`).toEqual([]);
      expect(lines.filter((line) => line.includes(secret))).toEqual([]);
    }
  }, 120_000);
});
