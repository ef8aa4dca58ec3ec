import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { PathIds } from '../variables/repo.js';

export function createChangesRepo(db: Kysely<Database>) {
  return {
    /** The organization's newest change id (0 when none): a stream without Last-Event-ID starts after it. */
    latest: (organizationId: string) =>
      db
        .selectFrom('changes')
        .select((eb) => eb.fn.max('id').as('id'))
        .where('organization_id', '=', organizationId)
        .executeTakeFirst()
        .then((row) => Number(row?.id ?? 0)),

    /**
     * Changes after `after` that reach a place the way resolution reads it (variables/repo.ts
     * reachingPath): the organization's, the project's, the environment's, the service's, and of
     * member-assigned ones only `memberId`'s.
     */
    after: (ids: PathIds, after: number, limit: number) =>
      db
        .selectFrom('changes')
        .selectAll()
        .where('organization_id', '=', ids.organizationId)
        .where('id', '>', after)
        .where((eb) =>
          eb.and([
            eb.or([
              eb('scope', '=', 'organization'),
              eb.and([eb('scope', '=', 'project'), eb('project_id', '=', ids.projectId)]),
              eb.and([eb('scope', '=', 'environment'), eb('environment_id', '=', ids.environmentId)]),
              ...(ids.serviceId === null ? [] : [eb.and([eb('scope', '=', 'service'), eb('service_id', '=', ids.serviceId)])]),
            ]),
            ids.memberId === null ? eb('assignee_user_id', 'is', null) : eb.or([eb('assignee_user_id', 'is', null), eb('assignee_user_id', '=', ids.memberId)]),
          ]),
        )
        .orderBy('id')
        .limit(limit)
        .execute(),
  };
}
