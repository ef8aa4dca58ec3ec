import type { Cluster, Environment, Membership, Organization, Project, Service } from '../db/schema.js';
import type { Grants, Resource, ResourceKind } from './authorizer.js';

/** Where in the hierarchy a request is, found from its path parameters. */
export interface OrgScope {
  organization: Organization;
  membership: Membership | null;
  /** What the membership holds here, compiled; null when it holds nothing (an unknown role). */
  grants: Grants | null;
  cluster?: Cluster;
  project?: Project;
  environment?: Environment;
  service?: Service;
}

/** The places in a scope that a route declared on each kind of resource always has. */
interface PlacesOf {
  organization: never;
  cluster: 'cluster';
  project: 'project';
  environment: 'project' | 'environment';
  service: 'project' | 'environment' | 'service';
}

/**
 * The scope of a route declared on a `K` resource: the places its path names are present.
 * Distributes over a union of kinds, so a scope of "one of these" promises only what each has.
 */
export type ScopeOf<K extends ResourceKind> = K extends ResourceKind ? OrgScope & Required<Pick<OrgScope, PlacesOf[K]>> : never;

/** Path parameters that name places in the hierarchy (slugs, and the cluster's id). */
export interface ScopeParams {
  org?: string;
  cluster_id?: string;
  project?: string;
  env?: string;
  service?: string;
}

/** The resource of `kind` in a resolved scope; a route declaring a kind its path lacks is a bug. */
export function resourceOf<K extends ResourceKind>(scope: OrgScope, kind: K): Extract<Resource, { kind: K }>;
export function resourceOf(scope: OrgScope, kind: ResourceKind): Resource {
  const { organization, cluster, project, environment, service } = scope;
  switch (kind) {
    case 'organization':
      return { kind, organization };
    case 'cluster':
      if (cluster) return { kind, organization, cluster };
      break;
    case 'project':
      if (project) return { kind, organization, project };
      break;
    case 'environment':
      if (project && environment) return { kind, organization, project, environment };
      break;
    case 'service':
      if (project && environment && service) return { kind, organization, project, environment, service };
      break;
  }
  throw new Error(`Route declares a ${kind} resource but its path does not name one`);
}
