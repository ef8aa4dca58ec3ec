import { sql, type Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';

/** Constraints whose violation the service answers in its own words (see translateConstraints). */
export const TOKEN_CONSTRAINTS = { name: 'api_tokens_organization_id_name_key' } as const;

export function createTokensRepo(db: Kysely<Database>) {
  const withNames = () =>
    db
      .selectFrom('api_tokens as t')
      .leftJoin('projects as p', 'p.id', 't.project_id')
      .leftJoin('environments as e', 'e.id', 't.environment_id')
      .leftJoin('services as s', 's.id', 't.service_id')
      .leftJoin('users as u', 'u.id', 't.created_by')
      .select([
        't.id',
        't.organization_id',
        't.name',
        't.prefix',
        't.scopes',
        't.project_id',
        't.environment_id',
        't.service_id',
        't.created_by',
        't.created_at',
        't.expires_at',
        't.last_used_at',
        'p.slug as project_slug',
        'e.slug as environment_slug',
        's.slug as service_slug',
        'u.email as creator_email',
      ]);

  return {
    list: (organizationId: string) => withNames().where('t.organization_id', '=', organizationId).orderBy('t.name').execute(),
    byId: (organizationId: string, id: string) =>
      withNames().where('t.organization_id', '=', organizationId).where('t.id', '=', id).executeTakeFirst(),
    /** The id and slug of a token's organization. */
    organization: (organizationId: string) =>
      db.selectFrom('organizations').select(['id', 'slug']).where('id', '=', organizationId).executeTakeFirst(),
    byHash: (tokenHash: Buffer) => withNames().where('t.token_hash', '=', tokenHash).executeTakeFirst(),
    insert: (token: {
      organization_id: string;
      name: string;
      token_hash: Buffer;
      prefix: string;
      scopes: string[];
      project_id: string | null;
      environment_id: string | null;
      service_id: string | null;
      created_by: string;
      expires_at: Date | null;
    }) =>
      db
        .insertInto('api_tokens')
        .values({ ...token, scopes: JSON.stringify(token.scopes) })
        .returning('id')
        .executeTakeFirstOrThrow(),
    /** Deletes the token and keeps its hash as revoked (call inside the revocation's transaction). */
    delete: async (organizationId: string, id: string) => {
      const deleted = await db
        .deleteFrom('api_tokens')
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .returning(['token_hash', 'organization_id'])
        .executeTakeFirst();
      if (!deleted) return false;
      await db.insertInto('revoked_api_tokens').values(deleted).onConflict((conflict) => conflict.column('token_hash').doNothing()).execute();
      return true;
    },
    /** When the token with this hash was revoked, if it was. */
    revokedAt: async (tokenHash: Buffer) =>
      (await db.selectFrom('revoked_api_tokens').select('revoked_at').where('token_hash', '=', tokenHash).executeTakeFirst())?.revoked_at,
    touch: (id: string) => db.updateTable('api_tokens').set({ last_used_at: sql`now()` }).where('id', '=', id).execute(),
    projects: (organizationId: string) => db.selectFrom('projects').selectAll().where('organization_id', '=', organizationId).execute(),
    clusters: (organizationId: string) => db.selectFrom('clusters').selectAll().where('organization_id', '=', organizationId).execute(),
  };
}

export type TokenRow = NonNullable<Awaited<ReturnType<ReturnType<typeof createTokensRepo>['byId']>>>;
