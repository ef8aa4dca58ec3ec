import { Type, type Static } from 'typebox';
import { ENVIRONMENT_TYPES } from '../../kernel/db/schema.js';
import { Slug, Timestamp, Uuid } from '../../kernel/http/schemas.js';
import { CLUSTER_LEVELS, ENVIRONMENT_SETS, PROJECT_LEVELS } from '../authz/levels.js';

export const RoleParams = Type.Object({ org: Slug, role_id: Type.String({ minLength: 1, maxLength: 64 }) });

const ClusterPermission = Type.Object(
  {
    cluster_id: Uuid,
    cluster_name: Type.Optional(Type.String({ description: 'Ignored on input; filled in on read' })),
    permission: Type.Enum(CLUSTER_LEVELS),
  },
  { additionalProperties: false },
);

const TypePermission = Type.Object(
  { environment_type: Type.Enum(ENVIRONMENT_TYPES), permission: Type.Enum(PROJECT_LEVELS) },
  { additionalProperties: false },
);

const ProjectPermission = Type.Object(
  {
    project_id: Uuid,
    project_name: Type.Optional(Type.String({ description: 'Ignored on input; filled in on read' })),
    is_admin: Type.Optional(Type.Boolean({ description: 'ADMIN on every environment type, plus project:write' })),
    permissions: Type.Optional(Type.Array(TypePermission, { maxItems: ENVIRONMENT_TYPES.length })),
  },
  { additionalProperties: false },
);

const EnvironmentPermission = Type.Object(
  {
    environment_id: Uuid,
    environment_name: Type.Optional(Type.String({ description: 'Ignored on input; filled in on read' })),
    project_name: Type.Optional(Type.String({ description: 'Ignored on input; filled in on read' })),
    permissions: Type.Array(Type.Enum(ENVIRONMENT_SETS), { minItems: 1, maxItems: ENVIRONMENT_SETS.length }),
  },
  { additionalProperties: false },
);

export const RoleBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^\\S(.*\\S)?$', description: 'No leading or trailing spaces' }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    cluster_permissions: Type.Optional(Type.Array(ClusterPermission, { maxItems: 1000 })),
    project_permissions: Type.Optional(Type.Array(ProjectPermission, { maxItems: 1000 })),
    environment_permissions: Type.Optional(Type.Array(EnvironmentPermission, { maxItems: 1000 })),
  },
  { additionalProperties: false },
);
export type RoleInput = Static<typeof RoleBody>;

const ActionList = Type.Array(Type.String({ description: 'An action of the catalogue (x-coffer-actions)' }));

/** What a system role holds, as the evaluator grants it: the console draws its permission table from this. */
const SystemGrants = Type.Object({
  organization: ActionList,
  clusters: Type.Array(Type.String(), { description: 'Held on every cluster' }),
  projects: Type.Array(Type.String(), { description: 'Held on every project' }),
  environments: Type.Record(Type.String(), ActionList, { description: 'By environment type, on every project' }),
});

export const RoleView = Type.Object({
  id: Type.String({ description: 'A UUID for custom roles, the role name for system roles' }),
  name: Type.String(),
  description: Type.String(),
  system: Type.Boolean(),
  cluster_permissions: Type.Optional(Type.Array(ClusterPermission)),
  project_permissions: Type.Optional(Type.Array(ProjectPermission)),
  environment_permissions: Type.Optional(Type.Array(EnvironmentPermission)),
  grants: Type.Optional(SystemGrants),
  created_at: Type.Optional(Timestamp),
  updated_at: Type.Optional(Timestamp),
});
export type RoleViewType = Static<typeof RoleView>;
