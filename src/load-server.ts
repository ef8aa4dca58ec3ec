import fs from 'node:fs';

type ServerModule = typeof import('./server.js');

const BUNDLE = new URL('./bundle/server.js', import.meta.url);
const TSC_BUILD = new URL('./.tsbuildinfo', import.meta.url);

/**
 * The server's modules: from the bundle scripts/bundle.mjs writes beside this file (bundle/)
 * when it is there and no older than tsc's last build, else from tsc's files. Loading a few
 * files instead of some 1,400 takes most of a second off every start (issue #16); a bundle
 * older than the compiled files (tsc run since, without bundling) would be old code, so it
 * is passed over.
 */
export function loadServer(): Promise<ServerModule> {
  return bundleIsCurrent(BUNDLE, TSC_BUILD) ? (import(BUNDLE.href) as Promise<ServerModule>) : import('./server.js');
}

/** Is there a bundle, written no earlier than tsc's build info (when there is one)? */
export function bundleIsCurrent(bundleFile: URL | string, tscBuildInfo: URL | string): boolean {
  const bundle = fs.statSync(bundleFile, { throwIfNoEntry: false });
  if (!bundle) return false;
  // No build info (a package without it): the bundle is all there is to compare.
  const tsc = fs.statSync(tscBuildInfo, { throwIfNoEntry: false });
  return !tsc || bundle.mtimeMs >= tsc.mtimeMs;
}
