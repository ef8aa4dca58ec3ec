import { CliError, EXIT } from '../api-client.js';
import { describeAction, type Action } from '../../kernel/authz/catalogue.js';
import { ENVIRONMENT_TYPES } from '../../kernel/db/schema.js';
import {
  CLUSTER_LEVEL_ACTIONS,
  CLUSTER_LEVELS,
  ENVIRONMENT_SET_ACTIONS,
  ENVIRONMENT_SETS,
  PROJECT_LEVEL_ACTIONS,
  PROJECT_LEVELS,
} from '../../modules/authz/levels.js';
import { SYSTEM_ROLE_DEFINITIONS, isSystemRole } from '../../modules/authz/system-roles.js';

/**
 * `coffer roles explain` reads the tables the server's evaluator grants from (levels.ts,
 * system-roles.ts, the catalogue's descriptions): there is no second copy to drift.
 */
interface Table {
  title: string;
  intro: string[];
  order: readonly string[];
  actions: Record<string, readonly Action[]>;
  /** Each entry includes the one before it, so only the additions are listed. */
  cumulative: boolean;
}

const TABLES: Table[] = [
  {
    title: 'Project levels (project_permissions, per environment type of the project)',
    intro: [
      'Each level includes the one before it and applies to environments of that type only.',
      'Any level but NO_ACCESS also shows the project (project:read); a project with NO_ACCESS on every type is invisible (404).',
      'is_admin: true is ADMIN on every type, plus project:write.',
      'DEPLOYER reads secrets in clear (secret:decrypt) because a deployment resolves them; to deploy without',
      'reading any secret, give the DEPLOYMENT set on the environment (environment_permissions) instead.',
    ],
    order: PROJECT_LEVELS,
    actions: PROJECT_LEVEL_ACTIONS,
    cumulative: true,
  },
  {
    title: 'Cluster levels (cluster_permissions)',
    intro: ['Each level includes the one before it. Creating an environment on a cluster needs ENV_CREATOR there.'],
    order: CLUSTER_LEVELS,
    actions: CLUSTER_LEVEL_ACTIONS,
    cumulative: true,
  },
  {
    title: 'Environment permission sets (environment_permissions, seed 004; combine several on one environment)',
    intro: ['Sets do not include one another: a role holds the union of the sets it lists.'],
    order: ENVIRONMENT_SETS,
    actions: ENVIRONMENT_SET_ACTIONS,
    cumulative: false,
  },
];

const width = Math.max(...TABLES.flatMap((t) => Object.values(t.actions).flat()).map((a) => a.length)) + 2;
const actionLines = (actions: readonly Action[]) => actions.map((action) => `  ${action.padEnd(width)}${describeAction(action)}`);

function entryText(table: Table, name: string, whole: boolean): string[] {
  const index = table.order.indexOf(name);
  const below = table.cumulative && !whole && index > 0 ? table.order[index - 1]! : undefined;
  const previous = below && table.actions[below]!.length > 0 ? below : undefined;
  const before = new Set(previous ? table.actions[previous] : []);
  const added = table.actions[name]!.filter((action) => !before.has(action));
  const head = previous ? `${name} = ${previous} +` : name;
  return [head, ...(added.length ? actionLines(added) : ['  (nothing)'])];
}

/** A system role's grants, from the definitions the server evaluates. */
export function systemRoleText(name: string): string {
  if (!isSystemRole(name)) return '';
  const role = SYSTEM_ROLE_DEFINITIONS[name];
  const lines = [`Organization: ${role.organization.join(', ') || '(nothing)'}`, `Every cluster: ${role.clusters.join(', ') || '(nothing)'}`, `Every project: ${role.projects.join(', ') || '(nothing)'}`];
  for (const type of ENVIRONMENT_TYPES) lines.push(`${type} environments: ${role.environments[type].join(', ') || '(nothing)'}`);
  return lines.join('\n') + '\n';
}

/** The text (and JSON) of `coffer roles explain [level]`. */
export function explainLevels(level?: string): { text: string; json: unknown } {
  const wanted = level?.toUpperCase();
  const tables = TABLES.map((table) => ({ table, names: table.order.filter((name) => wanted === undefined || name === wanted) })).filter((t) => t.names.length > 0);
  if (tables.length === 0) {
    throw new CliError(`"${level}" is not a level or permission set: use one of ${[...new Set(TABLES.flatMap((t) => t.order))].join(', ')}`, EXIT.usage);
  }
  const text = tables
    .map(({ table, names }) => [table.title, ...(wanted ? [] : table.intro), '', ...names.flatMap((name) => [...entryText(table, name, wanted !== undefined), ''])].join('\n'))
    .join('\n');
  const json = Object.fromEntries(
    tables.map(({ table, names }) => [
      table.title.split(' (')[0]!.toLowerCase().replace(/ /g, '_'),
      Object.fromEntries(names.map((name) => [name, table.actions[name]])),
    ]),
  );
  return { text, json };
}
