import { Link, useParams } from 'react-router';
import { ErrorText, Page } from '../../ui/form';
import { CardList, Table } from '../../ui/table';
import { useCan } from '../authz/can';
import { Scroll } from './MatrixFields';
import { ENVIRONMENT_TYPES, useCatalogue, useRoles, type CatalogueAction, type Role } from './api';

type Grants = NonNullable<Role['grants']>;

/** Where a system role holds an action: "yes", the environment types, or a dash. */
function held(grants: Grants, { action, level }: CatalogueAction): string {
  if (level === 'organization') return grants.organization.includes(action) ? 'yes' : '—';
  if (level === 'cluster') return grants.clusters.includes(action) ? 'every cluster' : '—';
  if (level === 'project') return grants.projects.includes(action) ? 'every project' : '—';
  const types = ENVIRONMENT_TYPES.filter((type) => grants.environments[type]?.includes(action));
  if (types.length === ENVIRONMENT_TYPES.length) return 'every environment';
  return types.length === 0 ? '—' : types.join(', ');
}

/**
 * The system roles' permission table (rows from the server's action catalogue, cells from what
 * each role holds as the API reports it) and the custom roles; creating and editing custom roles
 * is offered to those who hold member:manage.
 */
export function RolesPage() {
  const { org = '' } = useParams();
  const roles = useRoles(org);
  const catalogue = useCatalogue();
  const canManage = useCan(org, 'member:manage');
  const system = roles.data?.items.filter((r) => r.system && r.grants) ?? [];
  const custom = { error: roles.error, data: roles.data && { items: roles.data.items.filter((r) => !r.system) } };

  return (
    <Page title="Roles" actions={canManage && <Link to={`/orgs/${org}/roles/new`}>New custom role</Link>}>
      <h2>Custom roles</h2>
      <CardList label="Custom roles" query={custom} empty="No custom roles yet." card={(r) => (
        <>{canManage ? <Link to={`/orgs/${org}/roles/${r.id}`}>{r.name}</Link> : r.name} {r.description && <span className="hint">— {r.description}</span>}</>
      )} />
      <h2>System roles</h2>
      <ErrorText error={catalogue.error} />
      <dl className="roles">
        {system.map((r) => (
          <div key={r.id}>
            <dt>{r.name}</dt>
            <dd>{r.description}</dd>
          </div>
        ))}
      </dl>
      {catalogue.data && system.length > 0 && (
        <Scroll label="System role permissions, scrollable">
          <Table caption="Permissions of the system roles" columns={['Action', ...system.map((r) => r.name)]}>
            {catalogue.data.map((entry) => (
              <tr key={entry.action}>
                <th scope="row">
                  <code>{entry.action}</code>
                  <br />
                  <small className="hint">{entry.description}</small>
                </th>
                {system.map((r) => <td key={r.id}>{held(r.grants!, entry)}</td>)}
              </tr>
            ))}
          </Table>
        </Scroll>
      )}
    </Page>
  );
}
