import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Resolution } from '../modules/variables/formats.js';
import { materialize } from './resolution-files.js';

const before = new Set(fs.readdirSync(os.tmpdir()));
const leftovers = () => fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('coffer-run-') && !before.has(name));

afterEach(() => {
  for (const name of leftovers()) fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
});

const file = (key: string, value: string, mount_path: string) => ({ key, value, type: 'file' as const, scope: 'service' as const, variable_id: key, mount_path });

describe('materialize', () => {
  it('writes file variables 0600 in 0700 directories and removes them all', () => {
    const files = materialize({ variables: [file('TLS', 'cert', '/etc/tls/cert.pem')], pg_services: [], omitted: [] }, {});
    const written = files.env.TLS!;
    expect(path.basename(written)).toBe('cert.pem');
    expect(fs.readFileSync(written, 'utf8')).toBe('cert');
    expect(fs.statSync(written).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(written)).mode & 0o777).toBe(0o700);
    files.remove();
    expect(fs.existsSync(written)).toBe(false);
  });

  it('leaves nothing behind when a later file cannot be written', () => {
    // The second file's name collides with its own directory: the write fails after the first secret is on disk.
    const resolution: Resolution = { variables: [file('KEY', 'private key', '/k/key.pem'), file('BAD', 'x', '/x/.')], pg_services: [], omitted: [] };
    expect(() => materialize(resolution, {})).toThrow();
    expect(leftovers()).toEqual([]);
  });
});
