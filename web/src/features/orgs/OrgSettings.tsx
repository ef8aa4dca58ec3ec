import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorText, Field, Page, formValues } from '../../ui/form';
import { ME_KEY, type Me, useMe } from '../auth/session';
import { useCan } from '../authz/can';
import { TransferOwnership } from './TransferOwnership';

/**
 * An organization's settings: its name (organization:write), audit retention (organization:setup)
 * and deleting it after typing its slug (organization:delete). Each part only for those who may.
 */
export function OrgSettings() {
  const { org = '' } = useParams();
  const queries = useQueryClient();
  const navigate = useNavigate();
  const path = { org };
  const canRename = useCan(org, 'organization:write');
  const canSetup = useCan(org, 'organization:setup');
  const canDelete = useCan(org, 'organization:delete');
  const me = useMe();
  const key = ['/api/v1/orgs/{org}', org];
  const details = useQuery({ queryKey: key, queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}', { params: { path } })) });
  const [saved, setSaved] = useState<string | null>(null);
  const [typed, setTyped] = useState('');
  const done = (what: string) => () => {
    setSaved(what);
    void queries.invalidateQueries({ queryKey: key });
    // The switcher names organizations from the session's answer.
    void queries.invalidateQueries({ queryKey: ME_KEY });
  };
  const rename = useMutation({
    mutationFn: async (name: string) => unwrap(await api.PATCH('/api/v1/orgs/{org}', { params: { path }, body: { name } })),
    onSuccess: done('Name saved.'),
  });
  const retention = useMutation({
    mutationFn: async (days: number) => unwrap(await api.PATCH('/api/v1/orgs/{org}/settings', { params: { path }, body: { retention_days: days } })),
    onSuccess: done('Audit retention saved.'),
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE('/api/v1/orgs/{org}', { params: { path } })),
    onSuccess: () => {
      // Forget the organization in the session's answer, then leave its pages. Clearing the cache
      // here instead made the still-mounted pages ask again for what was just deleted (404s).
      queries.setQueryData(ME_KEY, (current: Me | null | undefined) =>
        current && { ...current, organizations: current.organizations.filter((o) => o.slug !== org) });
      navigate('/', { replace: true });
      void queries.invalidateQueries({ queryKey: ME_KEY });
    },
  });

  return (
    <Page title="Organization settings">
      <ErrorText error={details.error} />
      {saved && <p role="status" className="notice">{saved}</p>}
      {details.data && (
        <>
          <dl>
            <dt>Name</dt>
            <dd>{details.data.name}</dd>
            <dt>Slug</dt>
            <dd><code>{details.data.slug}</code></dd>
            <dt>Audit retention</dt>
            <dd>{details.data.retention_days} days</dd>
          </dl>
          {canRename && (
            <form className="create" onSubmit={(event) => { setSaved(null); rename.mutate(formValues(event).name ?? ''); }}>
              <fieldset>
                <legend>Rename</legend>
                <Field label="Organization name" name="name" required defaultValue={details.data.name} autoComplete="off" />
                <ErrorText error={rename.error} />
                <button type="submit" disabled={rename.isPending}>Save name</button>
              </fieldset>
            </form>
          )}
          {canSetup && (
            <form className="create" onSubmit={(event) => { setSaved(null); retention.mutate(Number(formValues(event).days)); }}>
              <fieldset>
                <legend>Audit retention</legend>
                <Field label="Keep audit events for (days)" name="days" type="number" min={1} step={1} required defaultValue={details.data.retention_days}
                  hint="Older events are removed by the server, hourly" />
                <ErrorText error={retention.error} />
                <button type="submit" disabled={retention.isPending}>Save retention</button>
              </fieldset>
            </form>
          )}
          {details.data.role === 'OWNER' && me.data && (
            <TransferOwnership org={org} me={me.data.user.id} onDone={done('Ownership transferred.')} />
          )}
          {canDelete && (
            <form className="create danger-zone" onSubmit={(event) => { event.preventDefault(); if (typed === org) remove.mutate(); }}>
              <fieldset>
                <legend>Delete this organization</legend>
                <p>
                  Deleting removes every project, environment, service, variable, member, role, token and audit event of {details.data.name}. It cannot be undone.
                </p>
                <Field label={`Type ${org} to confirm`} name="confirm" value={typed} onChange={(event) => setTyped(event.target.value)} autoComplete="off" />
                <ErrorText error={remove.error} />
                <button type="submit" className="danger" disabled={typed !== org || remove.isPending}>Delete organization</button>
              </fieldset>
            </form>
          )}
        </>
      )}
    </Page>
  );
}
