import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useParams, useSearchParams } from 'react-router';
import { api, unwrap, type paths } from '../../api/client';
import { Table, When } from '../../ui/table';
import { ErrorText, Field, FieldsetForm, Page, Select } from '../../ui/form';
import { AuditTools } from './AuditTools';
import { useCan } from '../authz/can';

type Query = NonNullable<paths['/api/v1/orgs/{org}/audit-events']['get']['parameters']['query']>;
type AuditEvent = paths['/api/v1/orgs/{org}/audit-events']['get']['responses'][200]['content']['application/json']['items'][number];
const FILTERS = ['event_type', 'target_type', 'target', 'actor'] as const;
const TOOLS = ['', 'CONSOLE', 'CLI', 'API', 'SDK', 'TERRAFORM', 'GIT'] as const;

/** The audit log (seed 000's table), newest first, with its filters kept in the URL. */
export function AuditPage() {
  const { org = '' } = useParams();
  const [search, setSearch] = useSearchParams();
  const [cursors, setCursors] = useState<string[]>([]);
  const [open, setOpen] = useState<AuditEvent | null>(null);
  const query: Query = { limit: 50 };
  for (const name of [...FILTERS, 'tool', 'from', 'to'] as const) {
    const value = search.get(name);
    if (value) (query as Record<string, string>)[name] = name === 'from' || name === 'to' ? new Date(value).toISOString() : value;
  }
  const filters: Record<string, string> = Object.fromEntries(Object.entries(query).filter(([name]) => name !== 'limit').map(([name, value]) => [name, String(value)]));
  const cursor = cursors.at(-1);
  if (cursor) query.cursor = cursor;
  const showEvent = async (id: string) => {
    try {
      setOpen(unwrap(await api.GET('/api/v1/orgs/{org}/audit-events/{event_id}', { params: { path: { org, event_id: id } } })));
    } catch (problem) {
      setOpenError(problem);
    }
  };
  const [openError, setOpenError] = useState<unknown>(null);
  const canRead = useCan(org, 'audit:read');
  const events = useQuery({
    enabled: canRead,
    queryKey: ['/api/v1/orgs/{org}/audit-events', org, query],
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/audit-events', { params: { path: { org }, query } })),
  });

  if (!canRead) {
    return (
      <Page title="Audit log">
        <p>Reading the audit log needs the audit:read permission in this organization.</p>
      </Page>
    );
  }
  return (
    <Page title="Audit log">
      <FieldsetForm className="filters" legend="Filters" submit="Apply filters" onSubmit={(values) => {
        setCursors([]);
        setSearch(Object.fromEntries(Object.entries(values).filter(([, v]) => v !== '')));
      }}>
        <Field label="From" name="from" type="datetime-local" defaultValue={search.get('from') ?? ''} />
        <Field label="To" name="to" type="datetime-local" defaultValue={search.get('to') ?? ''} />
        <Field label="Event type" name="event_type" defaultValue={search.get('event_type') ?? ''} />
        <Field label="Target type" name="target_type" defaultValue={search.get('target_type') ?? ''} />
        <Field label="Target" name="target" defaultValue={search.get('target') ?? ''} />
        <Field label="User or token" name="actor" defaultValue={search.get('actor') ?? ''} />
        <Select label="Tool" name="tool" options={TOOLS} defaultValue={search.get('tool') ?? ''} />
      </FieldsetForm>
      <AuditTools org={org} filters={filters} onShowEvent={(id) => void showEvent(id)} />
      <ErrorText error={events.error ?? openError} />
      {events.data && (
        <Table caption="Audit events" columns={['Timestamp', 'Event type', 'Target type', 'Target', 'Change', 'User or token', 'Tool', 'Details']}>
          {events.data.items.map((e) => (
            <tr key={e.id}>
              <td>
                <When iso={e.occurred_at} />
              </td>
              <td>{e.event_type}</td>
              <td>{e.target_type}</td>
              <td>{e.target_name ?? e.target_id}</td>
              <td>{e.change}</td>
              <td>{e.actor.name}</td>
              <td>{e.tool}</td>
              <td>
                <button type="button" onClick={() => setOpen(e)} aria-label={`Show event ${e.seq} as JSON`}>JSON</button>
              </td>
            </tr>
          ))}
        </Table>
      )}
      {events.data?.items.length === 0 && <p>No events match.</p>}
      <div className="pager">
        {cursors.length > 0 && <button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>Newer events</button>}
        {events.data?.next_cursor && <button type="button" onClick={() => setCursors([...cursors, events.data.next_cursor!])}>Older events</button>}
      </div>
      {open && (
        <section aria-labelledby="event-json" className="notice">
          <h2 id="event-json">Event {open.seq}</h2>
          <pre tabIndex={0}>{JSON.stringify(open, null, 2)}</pre>
          <button type="button" onClick={() => setOpen(null)}>Close event</button>
        </section>
      )}
    </Page>
  );
}
