import { sql, type SelectQueryBuilder } from 'kysely';

/**
 * One page of a listing in `column` order, starting after `after` (the key of the previous
 * page's last row): the keyset paging of every listing ordered by a unique name.
 */
export function pageAfter<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, column: string, after: string | undefined, limit: number) {
  const key = sql.ref(column);
  return (after === undefined ? query : query.where(key, '>', after)).orderBy(key).limit(limit).execute();
}
