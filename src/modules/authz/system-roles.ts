import { ENVIRONMENT_TYPES, type EnvironmentType } from '../../kernel/db/schema.js';
import type { Action } from '../../kernel/authz/catalogue.js';
import { CLUSTER_ACTIONS, ENVIRONMENT_ACTIONS, ENVIRONMENT_MANAGEMENT, ORGANIZATION_ACTIONS } from './levels.js';

/** System roles (SPEC §2.2): present in every organization, immutable. */
export const SYSTEM_ROLES = [
  'OWNER',
  'ADMIN',
  'DEVOPS',
  'BILLING_MANAGER',
  'VIEWER',
  'AUDITOR',
  'DEVELOPER',
  'MEMBER',
  'API_USER',
] as const;

export type SystemRole = (typeof SYSTEM_ROLES)[number];

export function isSystemRole(value: string): value is SystemRole {
  return (SYSTEM_ROLES as readonly string[]).includes(value);
}

/** Roles that can be given by invitation or role change: ownership moves only by transfer. */
export const ASSIGNABLE_ROLES = SYSTEM_ROLES.filter((role) => role !== 'OWNER');

/** What a system role holds: organization actions, actions on every cluster, and per environment type on every project. */
export interface SystemRoleDefinition {
  description: string;
  organization: readonly Action[];
  clusters: readonly Action[];
  projects: readonly Action[];
  environments: Record<EnvironmentType, readonly Action[]>;
}

const everyType = (actions: readonly Action[]) =>
  Object.fromEntries(ENVIRONMENT_TYPES.map((type) => [type, actions])) as Record<EnvironmentType, readonly Action[]>;

const types = (selected: readonly EnvironmentType[], actions: readonly Action[], base: readonly Action[]) =>
  Object.fromEntries(
    ENVIRONMENT_TYPES.map((type) => [type, selected.includes(type) ? [...base, ...actions] : base]),
  ) as Record<EnvironmentType, readonly Action[]>;

const VIEWER_ENVIRONMENT: readonly Action[] = ['environment:read', 'service:read', 'secret:read'];

const DEVOPS_ENVIRONMENT: readonly Action[] = [
  'environment:read',
  'service:read',
  'secret:read',
  'secret:write',
  'secret:decrypt',
  'key:retrieve',
  'deployment:trigger',
  'shell:connect',
  'service:scale',
  'service:restart',
  'log:stream',
  'image:scan',
  'database:read_credentials',
  'backup:create',
  'tunnel:create',
  'drain:create',
  'drain:delete',
];

const viewer: SystemRoleDefinition = {
  description: 'Reads the organization, clusters, projects, environments, services and masked variables',
  organization: ['organization:read'],
  clusters: ['cluster:read'],
  projects: ['project:read'],
  environments: everyType(VIEWER_ENVIRONMENT),
};

// Seed 000's table for the first five roles; seed 003 for the rest.
export const SYSTEM_ROLE_DEFINITIONS: Record<SystemRole, SystemRoleDefinition> = {
  OWNER: {
    description: 'Everything, including deleting the organization and transferring ownership; exactly one per organization',
    organization: ORGANIZATION_ACTIONS,
    clusters: CLUSTER_ACTIONS,
    projects: ['project:read', 'project:write'],
    environments: everyType(ENVIRONMENT_ACTIONS),
  },
  ADMIN: {
    description: 'Everything except deleting the organization and transferring ownership',
    organization: ORGANIZATION_ACTIONS.filter((action) => action !== 'organization:delete'),
    clusters: CLUSTER_ACTIONS,
    projects: ['project:read', 'project:write'],
    environments: everyType(ENVIRONMENT_ACTIONS),
  },
  DEVOPS: {
    description: 'Clusters, organization setup, and operating every project: variables, secrets, deployments, shells',
    organization: ['organization:read', 'cluster:manage', 'organization:setup'],
    clusters: CLUSTER_ACTIONS,
    projects: ['project:read'],
    environments: everyType(DEVOPS_ENVIRONMENT),
  },
  BILLING_MANAGER: {
    description: 'Reads the organization and manages billing',
    organization: ['organization:read', 'billing:manage'],
    clusters: [],
    projects: [],
    environments: everyType([]),
  },
  VIEWER: viewer,
  AUDITOR: {
    ...viewer,
    description: 'A viewer who also reads the audit log and asks what others may do',
    organization: [...viewer.organization, 'audit:read', 'authz:check'],
  },
  DEVELOPER: {
    ...viewer,
    description: 'A viewer who builds and operates DEVELOPMENT, PREVIEW and STAGING environments',
    environments: types(
      ['DEVELOPMENT', 'PREVIEW', 'STAGING'],
      [
        ...ENVIRONMENT_MANAGEMENT,
        'secret:write',
        'secret:decrypt',
        'deployment:trigger',
        'shell:connect',
        'service:restart',
        'log:stream',
      ],
      VIEWER_ENVIRONMENT,
    ),
  },
  MEMBER: {
    ...viewer,
    description: 'A viewer who configures and deploys DEVELOPMENT and PREVIEW environments',
    environments: types(
      ['DEVELOPMENT', 'PREVIEW'],
      ['secret:write', 'secret:decrypt', 'deployment:trigger', 'log:stream'],
      VIEWER_ENVIRONMENT,
    ),
  },
  API_USER: {
    description: 'For programs: reads every project and decrypts its secrets',
    organization: ['organization:read'],
    clusters: [],
    projects: ['project:read'],
    environments: everyType(['environment:read', 'service:read', 'secret:read', 'secret:decrypt']),
  },
};
