/**
 * The action catalogue (SPEC §2.1): every permission check and every API token scope
 * names one of these. Kept in one place with the level each is checked at; the OpenAPI
 * document and the console read it from here.
 */
export type ActionLevel = 'organization' | 'cluster' | 'project' | 'environment';

const catalogue = {
  // organization level
  'organization:read': ['organization', 'See the organization and its members'],
  'organization:write': ['organization', 'Rename the organization and change its settings'],
  'organization:delete': ['organization', 'Delete the organization and everything in it'],
  'billing:manage': ['organization', 'Manage billing and plans'],
  'member:manage': ['organization', 'Invite, remove and change the role of members; manage custom roles'],
  'cluster:manage': ['organization', 'Create and delete clusters and container registries'],
  'organization:setup': ['organization', 'Manage settings, webhooks, integrations and retention'],
  'audit:read': ['organization', 'Read, export and verify the audit log'],
  'audit:write': ['organization', 'Record platform events in the audit log'],
  'token:manage': ['organization', 'Create and revoke API tokens'],
  'project:create': ['organization', 'Create projects'],
  'authz:check': ['organization', 'Ask what another principal may do'],
  // cluster level
  'cluster:read': ['cluster', 'See a cluster'],
  'cluster:write': ['cluster', 'Edit a cluster'],
  'cluster:deploy': ['cluster', 'Create environments on a cluster'],
  // project level
  'project:read': ['project', 'See a project'],
  'project:write': ['project', 'Edit or delete a project'],
  // environment level (checked against an environment, whose type matters for custom roles)
  'environment:read': ['environment', 'See an environment'],
  'environment:create': ['environment', 'Create an environment'],
  'environment:write': ['environment', 'Edit or rename an environment'],
  'environment:delete': ['environment', 'Delete (deprovision) an environment'],
  'service:read': ['environment', 'See services and their outputs'],
  'service:create': ['environment', 'Create services'],
  'service:write': ['environment', 'Edit services'],
  'service:delete': ['environment', 'Delete services'],
  'secret:read': ['environment', 'List variables: plain values in clear, secrets masked'],
  'secret:write': ['environment', 'Create, edit and delete variables'],
  'secret:decrypt': ['environment', 'Read secret values in clear (resolution, run, export)'],
  'key:retrieve': ['environment', 'Retrieve the wrapped key of a client-managed project'],
  'deployment:trigger': ['environment', 'Deploy'],
  'shell:connect': ['environment', 'Open a shell in a running service'],
  'service:scale': ['environment', 'Scale services'],
  'service:restart': ['environment', 'Restart services'],
  'log:stream': ['environment', 'Stream logs'],
  'image:scan': ['environment', 'Scan container images'],
  'endpoint:create': ['environment', 'Create endpoints'],
  'endpoint:delete': ['environment', 'Delete endpoints'],
  'database:read_credentials': ['environment', 'Read database credentials'],
  'backup:create': ['environment', 'Create backups'],
  'backup:restore': ['environment', 'Restore backups'],
  'backup:delete': ['environment', 'Delete backups'],
  'backup_policy:manage': ['environment', 'Manage backup policies'],
  'replica:create': ['environment', 'Create database replicas'],
  'replica:delete': ['environment', 'Delete database replicas'],
  'tunnel:create': ['environment', 'Open tunnels to services'],
  'drain:create': ['environment', 'Create log drains'],
  'drain:delete': ['environment', 'Delete log drains'],
  'certificate:create': ['environment', 'Create certificates'],
  'certificate:delete': ['environment', 'Delete certificates'],
} as const satisfies Record<string, readonly [ActionLevel, string]>;

export type Action = keyof typeof catalogue;

export const ACTIONS = Object.keys(catalogue) as Action[];

export function isAction(value: string): value is Action {
  return Object.hasOwn(catalogue, value);
}

export function actionLevel(action: Action): ActionLevel {
  return catalogue[action][0];
}

export function describeAction(action: Action): string {
  return catalogue[action][1];
}
