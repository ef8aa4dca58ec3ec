import type { FastifyRequest } from 'fastify';
import type { Principal } from '../principal.js';

export const TOOLS = ['CONSOLE', 'CLI', 'API', 'SDK', 'TERRAFORM', 'GIT', 'VAULT_API'] as const;
export type Tool = (typeof TOOLS)[number];

/** Who did it, with what and from where: built once per request, stamped on every event it causes. */
export interface AuditContext {
  organizationId: string;
  actor: { type: 'user' | 'token' | 'system'; id: string | null; name: string };
  tool: Tool;
  ip: string | null;
  requestId: string | null;
}

export function actorOf(principal: Principal): AuditContext['actor'] {
  return principal.kind === 'user'
    ? { type: 'user', id: principal.user.id, name: principal.user.email }
    : { type: 'token', id: principal.token.id, name: principal.token.name };
}

/** The tool named by X-Coffer-Tool; anything else (or nothing) counts as API. The Vault API (/v1/…) is always VAULT_API. */
export function toolOf(request: FastifyRequest): Tool {
  if (request.url.startsWith('/v1/')) return 'VAULT_API';
  const header = String(request.headers['x-coffer-tool'] ?? '').toUpperCase();
  // VAULT_API is the Vault API's own mark, never a header's claim.
  return header !== 'VAULT_API' && (TOOLS as readonly string[]).includes(header) ? (header as Tool) : 'API';
}

export function auditContextOf(request: FastifyRequest, principal: Principal, organizationId: string): AuditContext {
  return { organizationId, actor: actorOf(principal), tool: toolOf(request), ip: request.ip ?? null, requestId: request.id };
}
