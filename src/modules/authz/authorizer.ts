import type { Cluster, Environment, Membership, Organization, Project, Service } from '../../kernel/db/schema.js';
import type { Principal } from '../../kernel/principal.js';
import type { Action } from './catalogue.js';

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
}

/**
 * The seam every route goes through: a pure decision, no I/O. The foundation plugs in
 * `membershipAuthorizer`; the authorization engine replaces it without touching routes.
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

/** Foundation rule: any member of the organization may do anything in it. */
export const membershipAuthorizer: Authorizer = {
  can: (subject, _action, resource) =>
    subject.membership !== null && subject.membership.organization_id === resource.organization.id,
};
