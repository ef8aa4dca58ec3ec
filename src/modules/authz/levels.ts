import type { EnvironmentType } from '../../kernel/db/schema.js';
import { ACTIONS, actionLevel, type Action } from '../../kernel/authz/catalogue.js';

/** Every action checked against an environment: what ADMIN on a type, or ENVIRONMENT_ADMIN, grants. */
export const ENVIRONMENT_ACTIONS: readonly Action[] = ACTIONS.filter((action) => actionLevel(action) === 'environment');
export const CLUSTER_ACTIONS: readonly Action[] = ACTIONS.filter((action) => actionLevel(action) === 'cluster');
export const ORGANIZATION_ACTIONS: readonly Action[] = ACTIONS.filter((action) => actionLevel(action) === 'organization');

/** Custom role levels on a cluster (seed 001 / SPEC §2.3), each including the one before. */
export const CLUSTER_LEVELS = ['VIEWER', 'ENV_CREATOR', 'ADMIN'] as const;
export type ClusterLevel = (typeof CLUSTER_LEVELS)[number];

export const CLUSTER_LEVEL_ACTIONS: Record<ClusterLevel, readonly Action[]> = {
  VIEWER: ['cluster:read'],
  ENV_CREATOR: ['cluster:read', 'cluster:deploy'],
  ADMIN: ['cluster:read', 'cluster:deploy', 'cluster:write'],
};

/** Custom role levels per environment type of a project (seed 001 / SPEC §2.3). */
export const PROJECT_LEVELS = ['NO_ACCESS', 'VIEWER', 'DEPLOYER', 'MANAGER', 'ADMIN'] as const;
export type ProjectLevel = (typeof PROJECT_LEVELS)[number];

const VIEWER: readonly Action[] = ['environment:read', 'service:read', 'secret:read'];
/**
 * DEPLOYER includes secret:decrypt on purpose (SPEC §2.3, decided again for issue #11): a
 * deployment resolves the secrets it runs with (coffer run, export), so a level that may deploy
 * but not decrypt would deploy nothing that works. Deploying without reading secrets is seed
 * 004's write-only DEPLOYMENT set, given per environment (cli-roles.test.ts checks both).
 */
const DEPLOYER: readonly Action[] = [
  ...VIEWER,
  'deployment:trigger',
  'service:restart',
  'service:scale',
  'log:stream',
  'secret:write',
  'secret:decrypt',
];
/** Creating, editing and deleting environments and services: what MANAGER adds, and the DEVELOPER system role holds on its types. */
export const ENVIRONMENT_MANAGEMENT: readonly Action[] = [
  'environment:create',
  'environment:write',
  'environment:delete',
  'service:create',
  'service:write',
  'service:delete',
];
const MANAGER: readonly Action[] = [...DEPLOYER, ...ENVIRONMENT_MANAGEMENT, 'shell:connect'];

/** Environment-level actions of each project level, for environments of the type it is set on. */
export const PROJECT_LEVEL_ACTIONS: Record<ProjectLevel, readonly Action[]> = {
  NO_ACCESS: [],
  VIEWER,
  DEPLOYER,
  MANAGER,
  ADMIN: ENVIRONMENT_ACTIONS,
};

/**
 * Per-environment permission sets (seed 004). Every set shows the environment and its
 * resources' basic information; the matrix decides the rest. The seed's fixed points:
 * Basic Visibility sees no configuration; Full Visibility never database credentials;
 * Deployment configures but reads no sensitive value; only Environment Admin and
 * Sensitive Access read database credentials; only Environment Admin and Destruction
 * deprovision; only Environment Admin renames; Tunnel creates tunnels.
 */
export const ENVIRONMENT_SETS = [
  'BASIC_VISIBILITY',
  'FULL_VISIBILITY',
  'ENVIRONMENT_ADMIN',
  'DEPLOYMENT',
  'DESTRUCTION',
  'OPS',
  'SENSITIVE_ACCESS',
  'TUNNEL',
] as const;
export type EnvironmentSet = (typeof ENVIRONMENT_SETS)[number];

const BASIC: readonly Action[] = ['environment:read', 'service:read'];

export const ENVIRONMENT_SET_ACTIONS: Record<EnvironmentSet, readonly Action[]> = {
  BASIC_VISIBILITY: BASIC,
  // "See all information … including App Configurations", but never database credentials.
  FULL_VISIBILITY: [...BASIC, 'secret:read', 'secret:decrypt', 'image:scan'],
  ENVIRONMENT_ADMIN: ENVIRONMENT_ACTIONS,
  // "Create, deploy, configure, restart … does not grant access to read any sensitive value":
  // secret:write without secret:read or secret:decrypt (write-only).
  DEPLOYMENT: [
    ...BASIC,
    'service:create',
    'service:write',
    'secret:write',
    'deployment:trigger',
    'service:scale',
    'service:restart',
    'log:stream',
    'image:scan',
    'endpoint:create',
    'backup:create',
    'backup:restore',
    'replica:create',
    'drain:create',
    'drain:delete',
  ],
  DESTRUCTION: [
    ...BASIC,
    'environment:delete',
    'service:delete',
    'endpoint:delete',
    'backup:delete',
    'replica:delete',
    'drain:delete',
    'certificate:delete',
  ],
  OPS: [...BASIC, 'service:scale', 'service:restart', 'log:stream', 'backup:create', 'drain:create', 'drain:delete'],
  SENSITIVE_ACCESS: [
    ...BASIC,
    'secret:read',
    'secret:write',
    'secret:decrypt',
    'database:read_credentials',
    'shell:connect',
    'certificate:create',
    'certificate:delete',
  ],
  TUNNEL: [...BASIC, 'tunnel:create'],
};

export type TypeLevels = Record<EnvironmentType, ProjectLevel>;
