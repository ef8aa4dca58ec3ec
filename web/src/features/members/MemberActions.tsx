import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { api, unwrap, type paths } from '../../api/client';
import { ErrorText } from '../../ui/form';

type Member = paths['/api/v1/orgs/{org}/members']['get']['responses'][200]['content']['application/json']['items'][number];
type SystemRole = NonNullable<NonNullable<paths['/api/v1/orgs/{org}/members/{user_id}']['patch']['requestBody']>['content']['application/json']['role']>;

/** The custom roles of an organization, by name (for the role pickers). */
export function useCustomRoles(org: string, enabled: boolean) {
  return useQuery({
    queryKey: ['/api/v1/orgs/{org}/roles', org],
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/roles', { params: { path: { org } } })),
    enabled,
  });
}

/**
 * A member's role change (a system role, or a custom role by name) and removal after a
 * confirmation; rendered only for those who hold member:manage. Ownership moves only by transfer,
 * so the owner's row offers neither.
 */
export function MemberActions({ org, member, roles, systemRoles }: { org: string; member: Member; roles: { id: string; name: string }[]; systemRoles: readonly SystemRole[] }) {
  const queries = useQueryClient();
  const select = useId();
  const current = member.role_id ? `custom:${member.role_id}` : `system:${member.role}`;
  const [choice, setChoice] = useState(current);
  const [confirming, setConfirming] = useState(false);
  const path = { org, user_id: member.user_id };
  const refresh = () => queries.invalidateQueries({ queryKey: ['/api/v1/orgs/{org}/members', org] });
  const change = useMutation({
    mutationFn: async (value: string) => {
      const [kind, id] = value.split(':') as [string, string];
      const body = kind === 'custom' ? { role_id: id } : { role: id as SystemRole };
      return unwrap(await api.PATCH('/api/v1/orgs/{org}/members/{user_id}', { params: { path }, body }));
    },
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE('/api/v1/orgs/{org}/members/{user_id}', { params: { path } })),
    onSuccess: refresh,
  });
  if (member.role === 'OWNER') return <span>Owner (transfer ownership to change)</span>;
  return (
    <div className="row-actions">
      <label htmlFor={select} className="visually-hidden">Role of {member.name}</label>
      <select id={select} value={choice} onChange={(event) => setChoice(event.target.value)}>
        <optgroup label="System roles">
          {systemRoles.map((r) => <option key={r} value={`system:${r}`}>{r}</option>)}
        </optgroup>
        {roles.length > 0 && (
          <optgroup label="Custom roles">
            {roles.map((r) => <option key={r.id} value={`custom:${r.id}`}>{r.name}</option>)}
          </optgroup>
        )}
      </select>{' '}
      <button type="button" disabled={choice === current || change.isPending} onClick={() => change.mutate(choice)}>
        Change role of {member.name}
      </button>{' '}
      {confirming ? (
        <>
          <button type="button" className="danger" disabled={remove.isPending} onClick={() => remove.mutate()}>Confirm removing {member.name}</button>{' '}
          <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
        </>
      ) : (
        <button type="button" onClick={() => setConfirming(true)}>Remove {member.name}</button>
      )}
      <ErrorText error={change.error ?? remove.error} />
    </div>
  );
}
