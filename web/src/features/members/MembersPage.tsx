import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useParams } from 'react-router';
import { api, unwrap, type paths } from '../../api/client';
import { Table, When } from '../../ui/table';
import { ErrorText, Field, FieldsetForm, Page, Select } from '../../ui/form';
import { useCan } from '../authz/can';
import { MemberAccess } from './MemberAccess';
import { MemberActions, useCustomRoles } from './MemberActions';

type Role = NonNullable<paths['/api/v1/orgs/{org}/invitations']['post']['requestBody']>['content']['application/json']['role'];
// The system roles one may invite to (ownership moves only by transfer); checked against the API's enum.
const ROLES = ['ADMIN', 'DEVOPS', 'BILLING_MANAGER', 'VIEWER', 'AUDITOR', 'DEVELOPER', 'MEMBER', 'API_USER'] as const satisfies readonly Role[];

/** Members and their roles; inviting (and the pending invitations) only for those who manage members. */
export function MembersPage() {
  const { org = '' } = useParams();
  const queries = useQueryClient();
  const canManage = useCan(org, 'member:manage');
  const canExplain = useCan(org, 'authz:check');
  const [inspected, setInspected] = useState<{ user_id: string; name: string } | null>(null);
  const path = { org };
  const members = useQuery({
    queryKey: ['/api/v1/orgs/{org}/members', org],
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/members', { params: { path, query: { limit: 200 } } })),
  });
  const invitationsKey = ['/api/v1/orgs/{org}/invitations', org];
  const invitations = useQuery({
    queryKey: invitationsKey,
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/invitations', { params: { path } })),
    enabled: canManage,
  });
  const customRoles = useCustomRoles(org, canManage);
  // The invitation token is shown once, in this view's state only.
  const [link, setLink] = useState<string | null>(null);
  const invite = useMutation({
    mutationFn: async (body: { email: string; role: Role }) => unwrap(await api.POST('/api/v1/orgs/{org}/invitations', { params: { path }, body })),
    onSuccess: (created) => {
      setLink(`${window.location.origin}/invitations/${encodeURIComponent(created.token)}`);
      void queries.invalidateQueries({ queryKey: invitationsKey });
    },
    gcTime: 0,
  });

  return (
    <Page title="Members">
      <ErrorText error={members.error} />
      {members.data && (
        <Table caption={<>Members of {org}</>} columns={['Name', 'Email', 'Role', 'Joined', canExplain && 'Access', canManage && 'Actions']}>
          {members.data.items.map((m) => (
            <tr key={m.user_id}>
              <th scope="row">{m.name}</th>
              <td>{m.email}</td>
              <td>{m.role_name ?? m.role}</td>
              <td>
                <When iso={m.joined_at} date />
              </td>
              {canExplain && (
                <td>
                  <button type="button" onClick={() => setInspected(m)}>Access of {m.name}</button>
                </td>
              )}
              {canManage && (
                <td>
                  <MemberActions org={org} member={m} roles={customRoles.data?.items ?? []} systemRoles={ROLES} />
                </td>
              )}
            </tr>
          ))}
        </Table>
      )}
      {inspected && <MemberAccess key={inspected.user_id} org={org} member={inspected} onClose={() => setInspected(null)} />}
      {canManage && (
        <>
          <FieldsetForm legend="Invite a member" submit="Send invitation" error={invite.error} pending={invite.isPending} onSubmit={({ email = '', role = 'VIEWER' }) => {
            setLink(null);
            invite.mutate({ email, role: role as Role });
          }}>
            <Field label="Email" name="email" type="email" required autoComplete="off" />
            <Select label="Role" name="role" options={ROLES} defaultValue="VIEWER" />
          </FieldsetForm>
          {link && (
            <div role="status" className="notice">
              <p>Invitation created. Give this link to the person invited; it is shown only now:</p>
              <code className="wrap">{link}</code>
            </div>
          )}
          <h2>Pending invitations</h2>
          <ErrorText error={invitations.error} />
          {invitations.data?.items.length === 0 && <p>None.</p>}
          <ul aria-label="Pending invitations">
            {invitations.data?.items.map((i) => (
              <li key={i.id}>
                {i.email} as {i.role}, expires <When iso={i.expires_at} date />
              </li>
            ))}
          </ul>
        </>
      )}
    </Page>
  );
}
