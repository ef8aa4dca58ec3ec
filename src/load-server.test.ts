import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bundleIsCurrent } from './load-server.js';

describe('bundleIsCurrent', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-load-server-'));
  const bundle = path.join(dir, 'server.js');
  const buildInfo = path.join(dir, '.tsbuildinfo');
  const touch = (file: string, seconds: number) => {
    fs.writeFileSync(file, '');
    fs.utimesSync(file, seconds, seconds);
  };
  afterEach(() => {
    fs.rmSync(bundle, { force: true });
    fs.rmSync(buildInfo, { force: true });
  });

  it('takes a bundle written after tsc, and one without build info beside it', () => {
    touch(buildInfo, 1000);
    touch(bundle, 1001);
    expect(bundleIsCurrent(bundle, buildInfo)).toBe(true);
    fs.rmSync(buildInfo);
    expect(bundleIsCurrent(bundle, buildInfo)).toBe(true);
  });

  it('passes over a bundle older than tsc’s last build (old code), or none', () => {
    touch(bundle, 1000);
    touch(buildInfo, 1001);
    expect(bundleIsCurrent(bundle, buildInfo)).toBe(false);
    fs.rmSync(bundle);
    expect(bundleIsCurrent(bundle, buildInfo)).toBe(false);
  });
});
