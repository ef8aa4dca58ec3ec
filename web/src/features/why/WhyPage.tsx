import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorText, Page } from '../../ui/form';
import { useCan } from '../authz/can';
import { useCatalogue } from '../roles/api';
import { Picker } from '../authz/Picker';
import { PlacePicker } from '../authz/PlacePicker';

type Check = { principal?: { user_id: string } | { token_id: string }; action: string; resource?: string };
const listed = { query: { limit: 200 } } as const;

/**
 * "Why?": may a member or token do an action at a place, and the engine's reason (POST
 * authz/check). Anyone may ask about themselves; asking about others is offered to those who hold
 * authz:check, and the pickers list only what the asker sees.
 */
export function WhyPage() {
  const { org = '' } = useParams();
  const canAskOthers = useCan(org, 'authz:check');
  const canListTokens = useCan(org, 'token:manage');
  const catalogue = useCatalogue();
  const [who, setWho] = useState('');
  const [action, setAction] = useState('secret:read');
  const [place, setPlace] = useState('');
  const members = useQuery({
    queryKey: ['/api/v1/orgs/{org}/members', org],
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/members', { params: { path: { org }, ...listed } })),
    enabled: canAskOthers,
  });
  const tokens = useQuery({
    queryKey: ['/api/v1/orgs/{org}/tokens', org],
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/tokens', { params: { path: { org } } })),
    enabled: canAskOthers && canListTokens,
  });
  const check = useMutation({
    mutationFn: async (body: Check) => unwrap(await api.POST('/api/v1/orgs/{org}/authz/check', { params: { path: { org } }, body })),
  });

  const principals = [
    { value: '', label: 'Myself' },
    ...(members.data?.items ?? []).map((m) => ({ value: `user:${m.user_id}`, label: `${m.name} (${m.email})` })),
    ...(tokens.data?.items ?? []).map((t) => ({ value: `token:${t.id}`, label: `Token ${t.name}` })),
  ];
  const ask = () => {
    const body: Check = { action };
    const [kind, id = ''] = who.split(':');
    if (kind === 'user') body.principal = { user_id: id };
    if (kind === 'token') body.principal = { token_id: id };
    if (place) body.resource = place;
    check.mutate(body);
  };
  const subject = principals.find((p) => p.value === who)?.label ?? 'Myself';

  return (
    <Page title="Why? Access explainer">
      <form onSubmit={(event) => {
        event.preventDefault();
        ask();
      }}>
        <fieldset className="filters">
          <legend>Who, what and where</legend>
          <Picker label="Member or token" value={who} onChange={setWho} options={principals} />
          <Picker label="Action" value={action} onChange={setAction}
            options={(catalogue.data ?? [{ action, description: '' }]).map((a) => ({ value: a.action, label: a.description ? `${a.action} — ${a.description}` : a.action }))} />
          <PlacePicker org={org} onChange={setPlace} labels={['Project', 'Environment', 'Service']} top="The organization itself" />
          <button type="submit" disabled={check.isPending}>Explain</button>
        </fieldset>
      </form>
      <ErrorText error={catalogue.error ?? members.error ?? check.error} />
      {check.data && (
        <div role="status" className={`notice ${check.data.allowed ? 'allowed' : 'denied'}`}>
          <p>
            <strong>{check.data.allowed ? 'Allowed' : 'Denied'}</strong>: {subject} · <code>{check.variables?.action}</code> ·{' '}
            {check.variables?.resource ?? 'the organization'}
          </p>
          <p>Reason: {check.data.reason}</p>
        </div>
      )}
    </Page>
  );
}
