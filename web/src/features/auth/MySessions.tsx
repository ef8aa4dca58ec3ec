import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { Table, When } from '../../ui/table';
import { ErrorText, Page } from '../../ui/form';

const SESSIONS_KEY = ['/api/v1/me/sessions'];

/** The signed-in person's live sessions (revocable) and the sign-ins on their account. */
export function MySessions() {
  const queries = useQueryClient();
  const sessions = useQuery({ queryKey: SESSIONS_KEY, queryFn: async () => unwrap(await api.GET('/api/v1/me/sessions')) });
  const events = useQuery({ queryKey: ['/api/v1/me/security-events'], queryFn: async () => unwrap(await api.GET('/api/v1/me/security-events')) });
  const revoke = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE('/api/v1/me/sessions/{session_id}', { params: { path: { session_id: id } } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: SESSIONS_KEY }),
  });
  return (
    <Page title="My sessions and security events">
      <h2>Sessions</h2>
      <ErrorText error={sessions.error ?? revoke.error} />
      {sessions.data && (
        <Table caption="Your sessions" columns={['Signed in', 'Last seen', 'Address', 'Browser', 'Actions']}>
          {sessions.data.items.map((s) => (
            <tr key={s.id}>
              <td>
                <When iso={s.created_at} />
              </td>
              <td>
                <When iso={s.last_seen_at} />
              </td>
              <td>{s.ip}</td>
              <td>{s.user_agent}</td>
              <td>
                {s.current ? (
                  'This session'
                ) : (
                  <button type="button" onClick={() => revoke.mutate(s.id)} aria-label={`Revoke the session signed in ${new Date(s.created_at).toLocaleString()}`}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
      <h2>Security events</h2>
      <ErrorText error={events.error} />
      <ul aria-label="Security events">
        {events.data?.items.map((e, index) => (
          <li key={index}>
            <When iso={e.occurred_at} /> {e.event_type} from {e.source_ip ?? 'an unknown address'}
          </li>
        ))}
      </ul>
    </Page>
  );
}
