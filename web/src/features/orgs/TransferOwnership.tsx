import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorText } from '../../ui/form';

/**
 * Handing the organization to another member (who becomes OWNER; the current owner becomes
 * ADMIN). The API allows it to the OWNER only, so the page renders this for the owner only.
 */
export function TransferOwnership({ org, me, onDone }: { org: string; me: string; onDone: () => void }) {
  const queries = useQueryClient();
  const select = useId();
  const [chosen, setChosen] = useState('');
  const [confirming, setConfirming] = useState(false);
  const members = useQuery({
    queryKey: ['/api/v1/orgs/{org}/members', org],
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/members', { params: { path: { org }, query: { limit: 200 } } })),
  });
  const transfer = useMutation({
    mutationFn: async (user_id: string) => unwrap(await api.POST('/api/v1/orgs/{org}/transfer-ownership', { params: { path: { org } }, body: { user_id } })),
    onSuccess: () => {
      setConfirming(false);
      void queries.invalidateQueries({ queryKey: ['/api/v1/orgs/{org}/members', org] });
      onDone();
    },
  });
  const others = members.data?.items.filter((m) => m.user_id !== me) ?? [];
  const name = others.find((m) => m.user_id === chosen)?.name;
  return (
    <form className="create" onSubmit={(event) => { event.preventDefault(); if (chosen) setConfirming(true); }}>
      <fieldset>
        <legend>Transfer ownership</legend>
        <p>The member chosen becomes the OWNER; you become ADMIN.</p>
        <label htmlFor={select}>New owner</label>
        <select id={select} value={chosen} onChange={(event) => { setChosen(event.target.value); setConfirming(false); }}>
          <option value="">Choose a member…</option>
          {others.map((m) => <option key={m.user_id} value={m.user_id}>{m.name} ({m.email})</option>)}
        </select>
        <ErrorText error={members.error ?? transfer.error} />
        {confirming ? (
          <p>
            <button type="button" className="danger" disabled={transfer.isPending} onClick={() => transfer.mutate(chosen)}>Confirm making {name} the owner</button>{' '}
            <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
          </p>
        ) : (
          <button type="submit" disabled={!chosen}>Transfer ownership</button>
        )}
      </fieldset>
    </form>
  );
}
