import type { Kysely } from 'kysely';
import { translateConstraint } from '../../kernel/db/errors.js';
import type { Database, Project } from '../../kernel/db/schema.js';
import { conflict } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { visiblePage } from '../../kernel/http/pagination.js';
import { PROJECT_CONSTRAINTS, createProjectsRepo } from './repo.js';
import { checkWrappedKey, type WrappedProjectKey } from '../../kernel/crypto/client-envelope.js';
import type { ProjectEncryption } from '../../kernel/db/schema.js';
import { invalid } from '../../kernel/errors.js';
import { toProjectView } from './schemas.js';
import { changedFields, withAudit } from '../audit/recorder.js';
import { listedProjectIds } from '../authz/evaluator.js';
import type { ProjectListing } from './list-cache.js';

/**
 * `hierarchyChanged` runs after an edit or deletion commits and before the caller answers:
 * cached token placements and project lists hold the old rows, and every instance drops
 * them first; `listing.created`, after a creation, drops the organization's list.
 */
export function createProjectsService(deps: { db: Kysely<Database>; hierarchyChanged: () => Promise<void>; listing: ProjectListing }) {
  const fields = (p: Project) => ({ slug: p.slug, name: p.name, description: p.description });
  const slugTaken = (slug: string) =>
    conflict(`A project with slug "${slug}" already exists in this organization`, { field: 'slug' });

  return {
    list(access: RequestAccess, cursor: string | undefined, limit: number) {
      const { organization, grants } = access.scope;
      // A member whose role lists its projects reads only those (issue #16); a token, or a role
      // over every project, reads them all. Either way each row still passes the check below.
      const ids = access.principal.kind === 'user' && grants !== null ? (listedProjectIds(grants) ?? undefined) : undefined;
      return visiblePage({
        cursor,
        limit,
        fetch: (after, count) => deps.listing.list(organization.id, after, count, ids),
        key: (project) => project.slug,
        visible: (project) => access.can('project:read', { kind: 'project', organization, project }),
        shape: toProjectView,
      });
    },

    async create(access: RequestAccess, input: { slug: string; name?: string; description?: string; encryption?: ProjectEncryption; client_key?: WrappedProjectKey; id?: string }) {
      const encryption = input.encryption ?? 'server';
      const clientKey = checkClientKey(encryption, input.client_key);
      // Issue #13: a client that chose the id can bind the first wrap of the key to it (cli/client-keys.ts wrapProjectKey).
      if (input.id !== undefined && encryption !== 'client') throw invalid('body.id', 'is only for projects with encryption client, whose key the client wraps bound to it');
      try {
        const project = await withAudit(deps.db, access.audit, async (tx, note) => {
          const repo = createProjectsRepo(tx);
          const project = await repo.insert({
            ...(input.id === undefined ? {} : { id: input.id }),
            organization_id: access.scope.organization.id,
            slug: input.slug,
            name: input.name ?? input.slug,
            description: input.description ?? '',
            encryption,
          });
          if (clientKey) await repo.insertKey(project.id, clientKey);
          const model = encryption === 'client' ? ' with client-managed keys' : '';
          note({ event_type: 'CREATE', target_type: 'project', target_id: project.id, target_name: project.slug, change: `Created project ${project.slug}${model}`, details: { after: { ...fields(project), encryption } } });
          return project;
        });
        await deps.listing.created(project.organization_id);
        return project;
      } catch (error) {
        throw translateConstraint(error, {
          [PROJECT_CONSTRAINTS.slug]: () => slugTaken(input.slug),
          [PROJECT_CONSTRAINTS.id]: () => conflict('A project with this id already exists: choose another random id', { field: 'body.id' }),
        });
      }
    },

    async update(access: RequestAccess, project: Project, changes: { slug?: string; name?: string; description?: string }) {
      try {
        return await withAudit(deps.db, access.audit, async (tx, note) => {
          const updated = await createProjectsRepo(tx).update(project.id, changes);
          note({ event_type: 'UPDATE', target_type: 'project', target_id: project.id, target_name: updated.slug, change: `Updated project ${updated.slug}`, details: changedFields(fields(project), fields(updated)) });
          return updated;
        }).then(async (updated) => (await deps.hierarchyChanged(), updated));
      } catch (error) {
        throw translateConstraint(error, { [PROJECT_CONSTRAINTS.slug]: () => slugTaken(changes.slug ?? project.slug) });
      }
    },

    /** Environments, services (and later variables) go with it in the statement's cascade. */
    delete: (access: RequestAccess, project: Project) =>
      withAudit(deps.db, access.audit, async (tx, note) => {
        await createProjectsRepo(tx).delete(project.id);
        note({ event_type: 'DELETE', target_type: 'project', target_id: project.id, target_name: project.slug, change: `Deleted project ${project.slug} and everything in it`, details: { before: fields(project) } });
      }).then(deps.hierarchyChanged),
  };
}

/** A client project needs its wrapped key, sane (SPEC §4); a server project takes none. */
function checkClientKey(encryption: ProjectEncryption, key: WrappedProjectKey | undefined): WrappedProjectKey | null {
  if (encryption === 'server') {
    if (key !== undefined) throw invalid('body.client_key', 'is only for projects with encryption client');
    return null;
  }
  if (key === undefined) throw invalid('body.client_key', 'is required with encryption client: the project key your client generated, wrapped under the passphrase (coffer projects create --encryption client does it)');
  const [problem] = checkWrappedKey(key, 'body.client_key');
  if (problem) throw invalid(problem[0], problem[1]);
  if (key.key_version !== 1) throw invalid('body.client_key.key_version', 'must be 1 for a new project');
  return key;
}

export type ProjectsService = ReturnType<typeof createProjectsService>;
