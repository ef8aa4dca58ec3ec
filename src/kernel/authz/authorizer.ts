import type { Cluster, Environment, Membership, Organization, Project, Service } from '../db/schema.js';
import type { Principal } from '../principal.js';
import type { Action } from './catalogue.js';
import { can } from '../../modules/authz/evaluator.js';
import { tokenCan, tokenSees } from './token-scopes.js';
import type { Grants } from '../../modules/authz/grants.js';

/** What a permission check is about, with the ancestors the rules may look at. */
export type Resource =
  | { kind: 'organization'; organization: Organization }
  | { kind: 'cluster'; organization: Organization; cluster: Cluster }
  | { kind: 'project'; organization: Organization; project: Project }
  | { kind: 'environment'; organization: Organization; project: Project; environment: Environment }
  | { kind: 'service'; organization: Organization; project: Project; environment: Environment; service: Service };

export type ResourceKind = Resource['kind'];

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

/** The authorization engine: a member's compiled grants, evaluated in the resource's organization. */
export const engineAuthorizer: Authorizer = {
  can: (subject, action, resource) =>
    subject.principal.kind === 'token'
      ? tokenCan(subject.principal.token, action, resource)
      : subject.grants !== null &&
    subject.membership?.organization_id === resource.organization.id &&
    can(subject.grants, action, resource),
};

/**
 * May the subject see the resource at all (SPEC §2.4)? Without it the resource answers 404,
 * so existence never leaks; with it a refusal is a 403 naming the action. A member sees what
 * its grants let it read; a token also sees the places on the way to its path and every
 * place where one of its scopes acts (tokens/scopes.ts, tokenSees).
 */
export function sees(authorizer: Authorizer, subject: Subject, resource: Resource): boolean {
  if (authorizer.can(subject, READ_ACTION[resource.kind], resource)) return true;
  const { principal } = subject;
  return principal.kind === 'token' && tokenSees(principal.token, resource, (action) => authorizer.can(subject, action, resource));
}
