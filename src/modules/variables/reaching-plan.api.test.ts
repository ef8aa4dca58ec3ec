import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/harness.js';
import { reachingQuery, type PathIds } from './repo.js';

/** A plan node of EXPLAIN (ANALYZE, FORMAT JSON), as far as these checks read it. */
interface PlanNode {
  'Node Type': string;
  'Actual Rows': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

let database: TestDatabase;
let ids: PathIds;

/**
 * Issue #16: the embedded database has no autovacuum, so no statistics, and a plan built on
 * guesses read every variable of a large organization to resolve one service. The resolution
 * query must read only what it returns, statistics or not: checked on a table never analyzed,
 * by rows read and thrown away, never by time.
 */
describe('the resolution query', () => {
  beforeAll(async () => {
    database = await openTestDatabase();
    const { db } = database;
    const { id: organizationId } = await db.insertInto('organizations').values({ slug: 'plan', name: 'plan' }).returning('id').executeTakeFirstOrThrow();
    // 40 projects × 5 services with 10 variables each, and one service whose path gets 3 at each level.
    await sql`
      with p as (
        insert into projects (organization_id, slug, name)
        select ${organizationId}, 'p' || i, 'p' || i from generate_series(0, 39) i returning id, slug
      ), e as (
        insert into environments (project_id, slug, name, type) select id, 'production', 'production', 'PRODUCTION' from p returning id, project_id
      )
      insert into services (environment_id, slug, name, kind) select e.id, 's' || j, 's' || j, 'application' from e, generate_series(0, 4) j`.execute(db);
    const { id: keyId } = await db.insertInto('data_keys').values({ organization_id: organizationId, project_id: null, provider: 'test', wrapped: Buffer.alloc(8) }).returning('id').executeTakeFirstOrThrow();
    await sql`
      insert into variables (organization_id, project_id, environment_id, service_id, scope, type, name, version, data_key_id, ciphertext)
      select ${organizationId}, e.project_id, e.id, s.id, 'service', 'plain', 'BULK_' || k, 1, ${keyId}::uuid, '\\x00'::bytea
      from services s join environments e on e.id = s.environment_id, generate_series(0, 9) k`.execute(db);
    const target = await sql<{ project_id: string; environment_id: string; service_id: string }>`
      select e.project_id, e.id as environment_id, s.id as service_id from services s join environments e on e.id = s.environment_id
      join projects p on p.id = e.project_id where p.slug = 'p7' and s.slug = 's3'`.execute(db);
    const place = target.rows[0]!;
    ids = { organizationId, projectId: place.project_id, environmentId: place.environment_id, serviceId: place.service_id, memberId: null };
    await sql`
      insert into variables (organization_id, project_id, environment_id, service_id, scope, type, name, version, data_key_id, ciphertext)
      select ${organizationId}::uuid, null::uuid, null::uuid, null::uuid, 'organization', 'plain', 'ORG_' || k, 1, ${keyId}::uuid, '\\x00'::bytea from generate_series(0, 2) k
      union all select ${organizationId}, ${ids.projectId}::uuid, null::uuid, null::uuid, 'project', 'plain', 'PROJECT_' || k, 1, ${keyId}::uuid, '\\x00'::bytea from generate_series(0, 2) k
      union all select ${organizationId}, ${ids.projectId}::uuid, ${ids.environmentId}::uuid, null::uuid, 'environment', 'plain', 'ENV_' || k, 1, ${keyId}::uuid, '\\x00'::bytea from generate_series(0, 2) k`.execute(db);
  });

  afterAll(async () => {
    await database?.close();
  });

  it.each([
    ['a service', () => ids],
    ['an environment', () => ({ ...ids, serviceId: null })],
  ])('for %s reads only the rows it returns, on a table without statistics', async (_, idsOf) => {
    const query = reachingQuery(database.db, idsOf());
    const returned = (await query.execute()).length;
    const [explained] = await query.explain('json', sql`analyze`);
    const nodes = nodesOf((explained!['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan);
    expect(returned).toBe(idsOf().serviceId === null ? 9 : 19);
    expect(nodes.filter((node) => node['Node Type'] === 'Seq Scan')).toEqual([]);
    expect(nodes.map((node) => (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0))).toEqual(nodes.map(() => 0));
  });
});
