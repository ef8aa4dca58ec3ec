import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_TYPES, type Environment, type EnvironmentType, type Organization, type Project } from '../../kernel/db/schema.js';
import type { Resource } from '../../kernel/authz/authorizer.js';
import { ACTIONS, actionLevel, type Action } from '../../kernel/authz/catalogue.js';
import { can, listedProjectIds } from './evaluator.js';
import { explain } from './explain.js';
import { grantsOfCustomRole, grantsOfSystemRole, type CustomRoleDefinition } from './grants.js';
import {
  CLUSTER_LEVELS,
  ENVIRONMENT_SETS,
  ENVIRONMENT_SET_ACTIONS,
  PROJECT_LEVELS,
  type ClusterLevel,
  type EnvironmentSet,
  type TypeLevels,
} from './levels.js';
import { SYSTEM_ROLES } from './system-roles.js';

const now = new Date('2026-01-01T00:00:00Z');
const organization: Organization = { id: 'org', slug: 'acme', name: 'Acme', retention_days: 365, enforce_sso: false, created_at: now, updated_at: now };
const project = (id: string): Project => ({ id, organization_id: 'org', slug: id, name: id, description: '', encryption: 'server', created_at: now, updated_at: now });
const environment = (id: string, projectId: string, type: EnvironmentType): Environment => ({
  id,
  project_id: projectId,
  slug: id,
  name: id,
  type,
  cluster_id: null,
  created_at: now,
  updated_at: now,
});
const onEnvironment = (projectId: string, envId: string, type: EnvironmentType): Resource => ({
  kind: 'environment',
  organization,
  project: project(projectId),
  environment: environment(envId, projectId, type),
});
const cluster = (id: string): Resource => ({
  kind: 'cluster',
  organization,
  cluster: { id, organization_id: 'org', name: id, region: null, created_at: now, updated_at: now },
});

const PROJECTS = ['p1', 'p2', 'p3'];
const ENVIRONMENTS = PROJECTS.flatMap((p) => ENVIRONMENT_TYPES.map((type) => ({ id: `${p}-${type}`, projectId: p, type })));
const CLUSTERS = ['c1', 'c2'];

const resources: Resource[] = [
  { kind: 'organization', organization },
  ...CLUSTERS.map(cluster),
  ...PROJECTS.map((p): Resource => ({ kind: 'project', organization, project: project(p) })),
  ...ENVIRONMENTS.map((e) => onEnvironment(e.projectId, e.id, e.type)),
];

const levels = fc.record(
  Object.fromEntries(ENVIRONMENT_TYPES.map((type) => [type, fc.constantFrom(...PROJECT_LEVELS)])) as Record<
    EnvironmentType,
    fc.Arbitrary<TypeLevels[EnvironmentType]>
  >,
);

/** A random custom role over the fixed hierarchy above. */
const customRole: fc.Arbitrary<CustomRoleDefinition> = fc
  .record({
    clusters: fc.dictionary(fc.constantFrom(...CLUSTERS), fc.constantFrom(...CLUSTER_LEVELS)),
    projects: fc.dictionary(fc.constantFrom(...PROJECTS), fc.record({ isAdmin: fc.boolean(), levels })),
    environments: fc.dictionary(
      fc.constantFrom(...ENVIRONMENTS.map((e) => e.id)),
      fc.uniqueArray(fc.constantFrom(...ENVIRONMENT_SETS), { maxLength: 3 }),
    ),
  })
  .map((raw) => ({
    id: 'role',
    name: 'Random',
    clusters: new Map(Object.entries(raw.clusters) as [string, ClusterLevel][]),
    projects: new Map(Object.entries(raw.projects)),
    environments: new Map(
      Object.entries(raw.environments).map(([id, sets]) => [
        id,
        { projectId: ENVIRONMENTS.find((e) => e.id === id)!.projectId, sets: sets as EnvironmentSet[] },
      ]),
    ),
  }));

/** The union of two roles: every grant of either. */
function union(a: CustomRoleDefinition, b: CustomRoleDefinition): CustomRoleDefinition {
  const order = (x: ClusterLevel | undefined) => (x === undefined ? -1 : CLUSTER_LEVELS.indexOf(x));
  const clusters = new Map(a.clusters);
  for (const [id, level] of b.clusters) if (order(level) > order(clusters.get(id))) clusters.set(id, level);
  const projects = new Map(a.projects);
  for (const [id, grant] of b.projects) {
    const mine = projects.get(id);
    if (!mine) projects.set(id, grant);
    else {
      const merged = Object.fromEntries(
        ENVIRONMENT_TYPES.map((t) => [
          t,
          PROJECT_LEVELS.indexOf(mine.levels[t]) >= PROJECT_LEVELS.indexOf(grant.levels[t]) ? mine.levels[t] : grant.levels[t],
        ]),
      ) as TypeLevels;
      projects.set(id, { isAdmin: mine.isAdmin || grant.isAdmin, levels: merged });
    }
  }
  const environments = new Map(a.environments);
  for (const [id, grant] of b.environments) {
    const mine = environments.get(id);
    environments.set(id, { projectId: grant.projectId, sets: [...new Set([...(mine?.sets ?? []), ...grant.sets])] });
  }
  return { id: 'union', name: 'Union', clusters, projects, environments };
}

describe('system roles', () => {
  it('OWNER holds every action on every resource of its level', () => {
    const owner = grantsOfSystemRole('OWNER');
    for (const action of ACTIONS) {
      const on = resources.filter((r) =>
        actionLevel(action) === 'cluster' ? r.kind === 'cluster' : actionLevel(action) === 'organization' || r.kind === 'environment',
      );
      for (const resource of on) expect(can(owner, action, resource), `${action} on ${resource.kind}`).toBe(true);
    }
  });

  it('ADMIN holds everything but organization:delete', () => {
    const admin = grantsOfSystemRole('ADMIN');
    expect(can(admin, 'organization:delete', resources[0]!)).toBe(false);
    expect(can(admin, 'member:manage', resources[0]!)).toBe(true);
    expect(can(admin, 'database:read_credentials', onEnvironment('p1', 'e', 'PRODUCTION'))).toBe(true);
  });

  it('DEVELOPER changes DEVELOPMENT, PREVIEW and STAGING environments but only reads PRODUCTION', () => {
    const developer = grantsOfSystemRole('DEVELOPER');
    for (const type of ['DEVELOPMENT', 'PREVIEW', 'STAGING'] as const) {
      expect(can(developer, 'deployment:trigger', onEnvironment('p1', 'e', type))).toBe(true);
    }
    expect(can(developer, 'deployment:trigger', onEnvironment('p1', 'e', 'PRODUCTION'))).toBe(false);
    expect(can(developer, 'secret:read', onEnvironment('p1', 'e', 'PRODUCTION'))).toBe(true);
  });

  it('every system role reads the organization', () => {
    for (const role of SYSTEM_ROLES) expect(can(grantsOfSystemRole(role), 'organization:read', resources[0]!)).toBe(true);
  });
});

describe('custom roles', () => {
  it('never grant an organization-level action other than organization:read', () => {
    fc.assert(
      fc.property(customRole, (role) => {
        const grants = grantsOfCustomRole(role);
        for (const action of ACTIONS.filter((a) => actionLevel(a) === 'organization')) {
          expect(can(grants, action, resources[0]!)).toBe(action === 'organization:read');
        }
      }),
    );
  });

  it('hide a project whose types are all NO_ACCESS', () => {
    const grants = grantsOfCustomRole({
      id: 'r',
      name: 'r',
      clusters: new Map(),
      projects: new Map([['p1', { isAdmin: false, levels: { DEVELOPMENT: 'NO_ACCESS', PREVIEW: 'NO_ACCESS', STAGING: 'NO_ACCESS', PRODUCTION: 'NO_ACCESS' } }]]),
      environments: new Map(),
    });
    expect(can(grants, 'project:read', { kind: 'project', organization, project: project('p1') })).toBe(false);
  });

  it('list, when they list projects at all, every project they let their holder read (issue #16)', () => {
    fc.assert(
      fc.property(customRole, (role) => {
        const grants = grantsOfCustomRole(role);
        const ids = listedProjectIds(grants);
        const readable = PROJECTS.filter((p) => can(grants, 'project:read', { kind: 'project', organization, project: project(p) }));
        if (role.clusters.size > 0) expect(ids).toBeNull();
        else expect([...ids!].sort()).toEqual(readable);
      }),
    );
    for (const role of SYSTEM_ROLES) expect(listedProjectIds(grantsOfSystemRole(role))).toBeNull();
  });

  it('explain agrees with can and names the custom role when it allows', () => {
    fc.assert(
      fc.property(customRole, fc.constantFrom(...ACTIONS), fc.constantFrom(...resources), (role, action, resource) => {
        const grants = grantsOfCustomRole(role);
        const decision = explain(grants, action, resource);
        expect(decision.allowed).toBe(can(grants, action, resource));
        if (decision.allowed) expect(decision.reason).toMatch(/custom role 'Random'/);
      }),
    );
  });
});

describe('evaluator properties', () => {
  it('never gives an action that no grant gives', () => {
    fc.assert(
      fc.property(customRole, fc.constantFrom(...ACTIONS), fc.constantFrom(...resources), (role, action, resource) => {
        if (!can(grantsOfCustomRole(role), action, resource)) return;
        // Some single grant of the role must give it on its own.
        const singles: CustomRoleDefinition[] = [
          ...[...role.clusters].map(([id, level]) => ({ ...role, clusters: new Map([[id, level]]), projects: new Map(), environments: new Map() })),
          ...[...role.projects].map(([id, grant]) => ({ ...role, clusters: new Map(), projects: new Map([[id, grant]]), environments: new Map() })),
          ...[...role.environments].map(([id, grant]) => ({ ...role, clusters: new Map(), projects: new Map(), environments: new Map([[id, grant]]) })),
        ];
        const alone = action === 'organization:read' || singles.some((single) => can(grantsOfCustomRole(single), action, resource));
        expect(alone).toBe(true);
      }),
    );
  });

  it('adding a grant never removes an action', () => {
    fc.assert(
      fc.property(customRole, customRole, fc.constantFrom(...ACTIONS), fc.constantFrom(...resources), (a, b, action, resource) => {
        if (can(grantsOfCustomRole(a), action, resource)) {
          expect(can(grantsOfCustomRole(union(a, b)), action, resource)).toBe(true);
        }
      }),
    );
  });

  it('a grant on one environment never leaks to another', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ENVIRONMENTS),
        fc.constantFrom(...ENVIRONMENTS),
        fc.uniqueArray(fc.constantFrom(...ENVIRONMENT_SETS), { minLength: 1 }),
        fc.constantFrom(...ACTIONS.filter((a) => actionLevel(a) === 'environment')),
        (granted, other, sets, action) => {
          fc.pre(granted.id !== other.id);
          const grants = grantsOfCustomRole({
            id: 'r',
            name: 'r',
            clusters: new Map(),
            projects: new Map(),
            environments: new Map([[granted.id, { projectId: granted.projectId, sets }]]),
          });
          expect(can(grants, action, onEnvironment(other.projectId, other.id, other.type))).toBe(false);
          expect(can(grants, action, onEnvironment(granted.projectId, granted.id, granted.type))).toBe(
            sets.some((set) => ENVIRONMENT_SET_ACTIONS[set].includes(action as Action)),
          );
        },
      ),
    );
  });
});

describe('seed 004 permission sets', () => {
  const holders = (action: Action) => ENVIRONMENT_SETS.filter((set) => ENVIRONMENT_SET_ACTIONS[set].includes(action));

  it('keep their fixed points', () => {
    expect(ENVIRONMENT_SET_ACTIONS.BASIC_VISIBILITY).not.toContain('secret:read');
    expect(ENVIRONMENT_SET_ACTIONS.FULL_VISIBILITY).toContain('secret:read');
    expect(ENVIRONMENT_SET_ACTIONS.FULL_VISIBILITY).not.toContain('database:read_credentials');
    expect(ENVIRONMENT_SET_ACTIONS.DEPLOYMENT).toContain('secret:write');
    expect(ENVIRONMENT_SET_ACTIONS.DEPLOYMENT).not.toContain('secret:read');
    expect(ENVIRONMENT_SET_ACTIONS.DEPLOYMENT).not.toContain('secret:decrypt');
    expect(holders('database:read_credentials')).toEqual(['ENVIRONMENT_ADMIN', 'SENSITIVE_ACCESS']);
    expect(holders('environment:delete')).toEqual(['ENVIRONMENT_ADMIN', 'DESTRUCTION']);
    expect(holders('environment:write')).toEqual(['ENVIRONMENT_ADMIN']);
    expect(holders('tunnel:create')).toEqual(['ENVIRONMENT_ADMIN', 'TUNNEL']);
    for (const set of ENVIRONMENT_SETS) expect(ENVIRONMENT_SET_ACTIONS[set]).toContain('environment:read');
  });
});
