import type { ReactNode } from 'react';
import { ErrorText } from './form';

/**
 * A list table: its caption names it for screen readers (and tests), the columns head it (a
 * `false` column is one the viewer may not use, left out), the rows are the children.
 */
export function Table({ caption, columns, children }: { caption: ReactNode; columns: readonly (string | false)[]; children: ReactNode }) {
  return (
    <table>
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {columns.map((column) => column !== false && <th key={column} scope="col">{column}</th>)}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

const DATE = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'numeric', day: 'numeric' });
const DATE_TIME = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });

/** An ISO instant as a `<time>`: the local date and time, or the date alone. */
export function When({ iso, date = false }: { iso: string; date?: boolean }) {
  const at = new Date(iso);
  // One formatter each, made once: toLocaleString builds a new one per call, which shows over 1,000 rows.
  return <time dateTime={iso}>{(date ? DATE : DATE_TIME).format(at)}</time>;
}

/**
 * What a list query has to show: its error, a loading status while pending, the sentence for
 * none, and the items themselves (drawn by `children`) once there is at least one.
 */
export function QueryResult<T>(props: {
  error: unknown;
  items: readonly T[] | undefined;
  pending?: boolean;
  loading?: string;
  empty: string;
  children: (items: readonly T[]) => ReactNode;
}) {
  const { items } = props;
  return (
    <>
      <ErrorText error={props.error} />
      {props.loading && props.pending && <p role="status">{props.loading}</p>}
      {items?.length === 0 && <p>{props.empty}</p>}
      {items && items.length > 0 && props.children(items)}
    </>
  );
}

/** A query's items as a labelled list of cards (the list stays, empty, while there are none), then the sentence for none. */
export function CardList<T extends { id: string }>(props: {
  label: string;
  query: { error: unknown; data: { items: readonly T[] } | undefined };
  empty: string;
  card: (item: T) => ReactNode;
}) {
  const { query } = props;
  return (
    <>
      <ErrorText error={query.error} />
      <ul className="cards" aria-label={props.label}>
        {query.data?.items.map((item) => <li key={item.id}>{props.card(item)}</li>)}
      </ul>
      {query.data?.items.length === 0 && <p>{props.empty}</p>}
    </>
  );
}
