import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';

/**
 * The console Vite builds: dist/web, next to the compiled server. This file is
 * dist/kernel/http/console.js, or part of the bundle in dist/bundle/ (scripts/bundle.mjs).
 */
const MODULE_DIR = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_CONSOLE_DIR = path.resolve(MODULE_DIR, path.basename(MODULE_DIR) === 'bundle' ? '../web' : '../../web');

/**
 * Scripts, styles, fonts and API calls from this origin only; no inline script, no plugins,
 * no framing (clickjacking), no <base> or form posts elsewhere. The console ships everything
 * it needs, so an air-gapped network loses nothing. 'wasm-unsafe-eval' lets the console compile
 * WebAssembly (Argon2id for client-managed projects, issue #13) and nothing else: no eval of JS.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * A JSON answer is never a document to render: it may load nothing and be framed by nobody
 * (OWASP's REST security advice). Shorter too, and it is sent with every API answer.
 */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** The security headers every response carries, the API's JSON as well as the console's files. */
export function installSecurityHeaders(app: FastifyInstance): void {
  // With `done`, not async: this runs on every response, and a promise per response costs.
  app.addHook('onSend', (request, reply, payload, done) => {
    const type = reply.getHeader('content-type');
    const json = typeof type === 'string' && type.startsWith('application/json');
    reply.header('content-security-policy', json ? API_CONTENT_SECURITY_POLICY : CONTENT_SECURITY_POLICY);
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
    if (request.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000');
    done(null, payload);
  });
}

/**
 * Serves the single-page console at `/`: its files by name (hashed assets cached for good),
 * and index.html for any other path outside /api, so a deep link or a reload lands on the
 * page the router draws. Unknown /api paths keep the API's JSON 404.
 */
export async function registerConsole(app: FastifyInstance, dir: string = DEFAULT_CONSOLE_DIR): Promise<void> {
  const built = fs.existsSync(path.join(dir, 'index.html'));
  // Files are served only under the top-level names the build wrote: nothing else is reachable.
  const topLevel = new Set(built ? fs.readdirSync(dir).filter((name) => !name.startsWith('index.html')) : []);
  // The build writes .br/.gz beside each file (web/vite.config.ts): sent to browsers that accept them.
  if (built) await app.register(fastifyStatic, { root: dir, serve: false, preCompressed: true });

  app.get(
    '/*',
    // The console's own URLs carry its filters in the query string, which the API routes refuse.
    { config: { access: 'public' }, schema: { hide: true, querystring: { type: 'object', additionalProperties: true } } },
    async (request, reply) => {
      const file = (request.params as { '*': string })['*'];
      if (file === 'api' || file.startsWith('api/')) {
        throw new AppError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}; see /api/v1/openapi.json`);
      }
      if (!built) {
        return reply.code(503).type('text/plain; charset=utf-8').send('The web console is not built: run `npm run build`.\n');
      }
      // The same URL may be answered in br, gzip or plain: caches must key on Accept-Encoding.
      reply.header('vary', 'accept-encoding');
      const first = file.split('/')[0] ?? '';
      if (topLevel.has(first)) {
        const hashed = first === 'assets';
        return reply.sendFile(file, { maxAge: hashed ? 365 * 24 * 3600 * 1000 : 0, immutable: hashed });
      }
      reply.header('cache-control', 'no-cache');
      return reply.sendFile('index.html', { cacheControl: false });
    },
  );
}
