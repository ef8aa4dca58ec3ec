import { LRUCache } from 'lru-cache';
import type { Invalidation } from '../../kernel/cache/invalidation.js';
import type { Project } from '../../kernel/db/schema.js';
import { HIERARCHY_TOPIC } from '../authz/placement-cache.js';
import type { createProjectsRepo } from './repo.js';

export const PROJECTS_TOPIC = 'projects';

/** An organization with more projects than this is listed from the database, page by page. */
const MAX_CACHED_PER_ORGANIZATION = 5000;
/** All organizations' cached projects together, in rows (a few hundred bytes each: at most some 10 MB). */
const MAX_CACHED_ROWS = 20_000;
/** Invalidation keeps lists current; the TTL only lets organizations nobody lists go. */
const LIST_TTL_MS = 10 * 60_000;

type ProjectsRepo = ReturnType<typeof createProjectsRepo>;

/**
 * Project listings from memory: an organization's projects, in the database's slug order,
 * read once and kept until one is created (PROJECTS_TOPIC, the organization's id) or
 * renamed, converted or deleted (HIERARCHY_TOPIC, which the placement cache already hears),
 * on this instance at once and on the others through the invalidation channel. Every
 * request read them from the database before: the one query of a member's project list,
 * and on the embedded database most of its cost (issue #16).
 *
 * A page starts after the cursor's slug, found in the list: a cursor naming a project no
 * longer there, like an unhealthy channel or a very large organization, reads the database.
 */
export function createProjectListing(repo: ProjectsRepo, invalidation: Invalidation) {
  const lists = new LRUCache<string, { rows: Project[]; indexOf: Map<string, number> }>({
    maxSize: MAX_CACHED_ROWS,
    sizeCalculation: (entry) => Math.max(1, entry.rows.length),
    ttl: LIST_TTL_MS,
  });
  // A read that raced with a change must not store what it read before the change.
  const generations = new Map<string, number>();
  let epoch = 0;
  const generationOf = (organizationId: string) => `${epoch}.${generations.get(organizationId) ?? 0}`;
  const clear = () => {
    epoch += 1;
    lists.clear();
  };
  invalidation.subscribe(
    PROJECTS_TOPIC,
    (organizationId) => {
      generations.set(organizationId, (generations.get(organizationId) ?? 0) + 1);
      lists.delete(organizationId);
    },
    clear,
  );
  invalidation.subscribe(HIERARCHY_TOPIC, clear, clear);

  async function listOf(organizationId: string) {
    if (!invalidation.healthy) return undefined;
    const hit = lists.get(organizationId);
    if (hit) return hit;
    const generation = generationOf(organizationId);
    const rows = await repo.list(organizationId, undefined, MAX_CACHED_PER_ORGANIZATION + 1);
    if (rows.length > MAX_CACHED_PER_ORGANIZATION) return undefined;
    const entry = { rows, indexOf: new Map(rows.map((row, index) => [row.slug, index])) };
    if (invalidation.healthy && generation === generationOf(organizationId)) lists.set(organizationId, entry);
    return entry;
  }

  return {
    /** What repo.list answers: up to `limit` projects after `afterSlug` in slug order, of `ids` when given. */
    async list(organizationId: string, afterSlug: string | undefined, limit: number, ids?: readonly string[]): Promise<Project[]> {
      const list = await listOf(organizationId);
      const last = afterSlug === undefined ? -1 : list?.indexOf.get(afterSlug);
      if (!list || last === undefined) return repo.list(organizationId, afterSlug, limit, ids);
      const wanted = ids === undefined ? undefined : new Set(ids);
      const page: Project[] = [];
      for (let index = last + 1; index < list.rows.length && page.length < limit; index++) {
        const row = list.rows[index]!;
        if (!wanted || wanted.has(row.id)) page.push(row);
      }
      return page;
    },

    /** Tells every instance (this one first) that the organization has a new project. */
    created: (organizationId: string) => invalidation.publish(PROJECTS_TOPIC, organizationId),
  };
}

export type ProjectListing = ReturnType<typeof createProjectListing>;
