import type { Cluster, Environment, Membership, Organization, Project, Service } from '../db/schema.js';
import type { Principal } from '../principal.js';
import type { Action } from './catalogue.js';
import { tokenSees } from './token-scopes.js';

/** What a permission check is about, with the ancestors the rules may look at. */
export type Resource =
  | { kind: 'organization'; organization: Organization }
  | { kind: 'cluster'; organization: Organization; cluster: Cluster }
  | { kind: 'project'; organization: Organization; project: Project }
  | { kind: 'environment'; organization: Organization; project: Project; environment: Environment }
  | { kind: 'service'; organization: Organization; project: Project; environment: Environment; service: Service };

export type ResourceKind = Resource['kind'];

/**
 * What a membership holds in its organization, compiled by the authz module, which declares
 * its members (declaration merging, in its grants.ts). The kernel only carries it from scope
 * resolution to the authorizer, so it needs neither its shape nor a dependency on a module.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Grants {}

/** The principal together with what it holds in the organization being accessed. */
export interface Subject {
  principal: Principal;
  membership: Membership | null;
  grants: Grants | null;
}

/**
 * The seam every route goes through: a pure decision, no I/O. Tests substitute their own.
 */
export interface Authorizer {
  can(subject: Subject, action: Action, resource: Resource): boolean;
}

/** The action that makes a resource visible; without it the resource answers 404. */
export const READ_ACTION: Record<ResourceKind, Action> = {
  organization: 'organization:read',
  cluster: 'cluster:read',
  project: 'project:read',
  environment: 'environment:read',
  service: 'service:read',
};

/**
 * May the subject see the resource at all (SPEC §2.4)? Without it the resource answers 404,
 * so existence never leaks; with it a refusal is a 403 naming the action. A member sees what
 * its grants let it read; a token also sees the places on the way to its path and every
 * place where one of its scopes acts (token-scopes.ts, tokenSees).
 */
export function sees(authorizer: Authorizer, subject: Subject, resource: Resource): boolean {
  if (authorizer.can(subject, READ_ACTION[resource.kind], resource)) return true;
  const { principal } = subject;
  return principal.kind === 'token' && tokenSees(principal.token, resource, (action) => authorizer.can(subject, action, resource));
}
