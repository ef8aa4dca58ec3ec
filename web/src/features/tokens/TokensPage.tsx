import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useParams } from 'react-router';
import { api, unwrap, type paths } from '../../api/client';
import { QueryResult, Table, When } from '../../ui/table';
import { ErrorText, Field, FieldsetForm, Page, Select } from '../../ui/form';
import { useCan } from '../authz/can';
import { PlacePicker } from '../authz/PlacePicker';

type CreateToken = NonNullable<paths['/api/v1/orgs/{org}/tokens']['post']['requestBody']>['content']['application/json'];
const PRESETS = ['read-only', 'ci', 'chosen scopes'] as const;

/** The date of an ISO instant, or a dash. */
const day = (iso: string | null) => (iso ? <When iso={iso} date /> : '—');

/**
 * The organization's API tokens (never the token itself), creating one (a preset or chosen
 * scopes, a path limit, an expiry; the token shown once, in this view's state only) and revoking.
 * Offered only to those who hold token:manage.
 */
export function TokensPage() {
  const { org = '' } = useParams();
  const queries = useQueryClient();
  const canManage = useCan(org, 'token:manage');
  const key = ['/api/v1/orgs/{org}/tokens', org];
  const list = useQuery({
    queryKey: key,
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/tokens', { params: { path: { org } } })),
    enabled: canManage,
  });
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [preset, setPreset] = useState<(typeof PRESETS)[number]>('read-only');
  const [confirming, setConfirming] = useState<string | null>(null);
  const [path, setPath] = useState('');
  const create = useMutation({
    mutationFn: async (body: CreateToken) => unwrap(await api.POST('/api/v1/orgs/{org}/tokens', { params: { path: { org } }, body })),
    onSuccess: (token) => {
      setCreated({ name: token.name, token: token.token });
      void queries.invalidateQueries({ queryKey: key });
    },
    gcTime: 0,
  });
  const revoke = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE('/api/v1/orgs/{org}/tokens/{token_id}', { params: { path: { org, token_id: id } } })),
    onSuccess: () => {
      setConfirming(null);
      void queries.invalidateQueries({ queryKey: key });
    },
  });

  const submit = (values: Record<string, string>) => {
    setCreated(null);
    setCopied(false);
    const body: CreateToken = { name: values.name ?? '' };
    if (preset === 'chosen scopes') {
      body.scopes = (values.scopes ?? '').split(/[\s,]+/).filter(Boolean);
    } else body.preset = preset;
    if (values.path) body.path = values.path.trim();
    // The date input gives a day; the token expires at its end (UTC).
    if (values.expires) body.expires_at = new Date(`${values.expires}T23:59:59Z`).toISOString();
    create.mutate(body);
  };

  if (!canManage) {
    return (
      <Page title="API tokens">
        <p>Managing API tokens needs the token:manage permission in this organization.</p>
      </Page>
    );
  }
  return (
    <Page title="API tokens">
      <QueryResult error={list.error} items={list.data?.items} empty="No API tokens yet.">
        {(items) => (
          <Table caption={<>API tokens of {org}</>} columns={['Name', 'Prefix', 'Scopes', 'Path', 'Expires', 'Last used', 'Actions']}>
            {items.map((t) => (
              <tr key={t.id}>
                <th scope="row">{t.name}</th>
                <td><code>{t.prefix}…</code></td>
                <td>{t.scopes.join(', ')}</td>
                <td>{t.path ?? 'whole organization'}</td>
                <td>{day(t.expires_at)}</td>
                <td>{day(t.last_used_at)}</td>
                <td>
                  {confirming === t.id ? (
                    <>
                      <button type="button" className="danger" onClick={() => revoke.mutate(t.id)} disabled={revoke.isPending}>
                        Confirm revoking {t.name}
                      </button>{' '}
                      <button type="button" onClick={() => setConfirming(null)}>Cancel</button>
                    </>
                  ) : (
                    <button type="button" onClick={() => setConfirming(t.id)}>Revoke {t.name}</button>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </QueryResult>
      <ErrorText error={revoke.error} />
      <FieldsetForm legend="New API token" submit="Create token" error={create.error} pending={create.isPending} onSubmit={submit}>
        <Field label="Name" name="name" required autoComplete="off" />
        <Select label="Permissions" name="preset" options={PRESETS} value={preset} onChange={(event) => setPreset(event.target.value as (typeof PRESETS)[number])} />
        {preset === 'chosen scopes' && (
          <Field label="Scopes" name="scopes" required placeholder="secret:read, environment:*" hint="Actions (secret:read), resource:* or *, separated by commas; only what you hold yourself" />
        )}
        <PlacePicker org={org} onChange={setPath} labels={['Limit to project', 'Limit to environment', 'Limit to service']} top="The whole organization" />
        <Field label="Path limit" name="path" value={path} onChange={(event) => setPath(event.target.value)} placeholder="project/environment/service"
          hint="Optional: limits the token to a project, environment or service (picked above, or typed)" />
        <Field label="Expires on" name="expires" type="date" hint="Optional: the token stops working after this day (UTC)" />
      </FieldsetForm>
      {created && (
        <div role="status" className="notice">
          <p>
            Token {created.name} created. Copy it now: it is shown only this once and cannot be recovered.
          </p>
          <code className="wrap">{created.token}</code>{' '}
          <button type="button" onClick={() => void navigator.clipboard.writeText(created.token).then(() => setCopied(true))}>
            Copy token
          </button>
          {copied && <span> Copied.</span>}
          <button type="button" onClick={() => setCreated(null)}>Done, hide it</button>
        </div>
      )}
    </Page>
  );
}
