import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { ROOT } from './processes.js';

/**
 * package.json's `engines` is a promise (issue #11): every installed package, runtime and
 * development alike, must accept the oldest Node it names, the README must name the same one,
 * and the Node running the suite must be inside it. cookie@2 (pulled in by @fastify/cookie
 * 11.1.1+ and light-my-request 6.8+) asks for Node ≥ 22 while we promise 20.19.
 */
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const oldest = semver.minVersion(pkg.engines.node)!.version;

function installed(dir: string, found: { name: string; dir: string; node: string }[] = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const at = path.join(dir, entry.name);
    if (entry.name.startsWith('@')) {
      installed(at, found);
      continue;
    }
    const manifest = path.join(at, 'package.json');
    if (fs.existsSync(manifest)) {
      const { name, version, engines } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name: string; version: string; engines?: { node?: string } };
      if (typeof engines?.node === 'string') found.push({ name: `${name}@${version}`, dir: path.relative(ROOT, at), node: engines.node });
    }
    if (fs.existsSync(path.join(at, 'node_modules'))) installed(path.join(at, 'node_modules'), found);
  }
  return found;
}

describe('engines', () => {
  it('every installed package accepts the oldest Node that package.json promises', () => {
    const packages = installed(path.join(ROOT, 'node_modules'));
    expect(packages.length).toBeGreaterThan(50);
    const refusing = packages.filter((p) => !semver.satisfies(oldest, p.node)).map((p) => `${p.name} (${p.dir}) wants node ${p.node}`);
    expect(refusing).toEqual([]);
  });

  it('the README names the same Node as package.json, and the suite runs on a Node inside it', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const named = /Needs Node\.js ≥ (\d+\.\d+)/.exec(readme)?.[1];
    expect(named && `${named}.0`).toBe(oldest);
    expect(semver.satisfies(process.version, pkg.engines.node)).toBe(true);
  });
});
