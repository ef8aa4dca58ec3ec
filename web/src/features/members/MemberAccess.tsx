import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { ErrorText } from '../../ui/form';
import { Table } from '../../ui/table';

/** The columns: what people most often ask of an environment. The answers are the engine's, one authz/check each. */
const ACTIONS = ['environment:read', 'secret:read', 'secret:decrypt', 'secret:write', 'deployment:trigger', 'environment:delete'] as const;
const listed = { query: { limit: 200 } } as const;

/**
 * A member's effective access: for every environment the asker sees (grouped by project, its
 * type shown), whether the member may do each action there, with the engine's reason on hover.
 */
export function MemberAccess({ org, member, onClose }: { org: string; member: { user_id: string; name: string }; onClose: () => void }) {
  const access = useQuery({
    queryKey: ['member access', org, member.user_id],
    queryFn: async () => {
      const projects = unwrap(await api.GET('/api/v1/orgs/{org}/projects', { params: { path: { org }, ...listed } })).items;
      const rows = await Promise.all(
        projects.map(async (project) => {
          const path = { org, project: project.slug };
          const environments = unwrap(await api.GET('/api/v1/orgs/{org}/projects/{project}/environments', { params: { path, ...listed } })).items;
          return Promise.all(
            environments.map(async (environment) => {
              const resource = `${project.slug}/${environment.slug}`;
              const answers = await Promise.all(
                ACTIONS.map(async (action) =>
                  unwrap(await api.POST('/api/v1/orgs/{org}/authz/check', { params: { path: { org } }, body: { principal: { user_id: member.user_id }, action, resource } })),
                ),
              );
              return { resource, type: environment.type, answers };
            }),
          );
        }),
      );
      return rows.flat();
    },
  });
  return (
    <section aria-labelledby="member-access" className="notice">
      <h2 id="member-access">Access of {member.name}</h2>
      <ErrorText error={access.error} />
      {access.isPending && <p role="status">Asking the engine…</p>}
      {access.data?.length === 0 && <p>No environments to show.</p>}
      {access.data && access.data.length > 0 && (
        <Table caption={`Effective access of ${member.name} by environment`} columns={['Environment', 'Type', ...ACTIONS]}>
          {access.data.map((row) => (
            <tr key={row.resource}>
              <th scope="row">{row.resource}</th>
              <td><span className={`badge ${row.type.toLowerCase()}`}>{row.type}</span></td>
              {row.answers.map((answer, index) => (
                <td key={ACTIONS[index]} title={answer.reason}>{answer.allowed ? 'yes' : 'no'}</td>
              ))}
            </tr>
          ))}
        </Table>
      )}
      <button type="button" onClick={onClose}>Close access</button>
    </section>
  );
}
