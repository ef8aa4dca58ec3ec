import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useParams } from 'react-router';
import { api, unwrap, type paths } from '../../api/client';
import { ErrorText, Field, Page, Select, formValues } from '../../ui/form';
import { useCan } from '../authz/can';

type CreateToken = NonNullable<paths['/api/v1/orgs/{org}/tokens']['post']['requestBody']>['content']['application/json'];
const PRESETS = ['read-only', 'ci', 'chosen scopes'] as const;

/** The date of an ISO instant, or a dash. */
const day = (iso: string | null) => (iso ? <time dateTime={iso}>{new Date(iso).toLocaleDateString()}</time> : '—');

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

  const submit = (event: React.FormEvent<HTMLFormElement>) => {
    const values = formValues(event);
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
      <ErrorText error={list.error} />
      {list.data?.items.length === 0 && <p>No API tokens yet.</p>}
      {list.data && list.data.items.length > 0 && (
        <table>
          <caption className="visually-hidden">API tokens of {org}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Prefix</th>
              <th scope="col">Scopes</th>
              <th scope="col">Path</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((t) => (
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
          </tbody>
        </table>
      )}
      <ErrorText error={revoke.error} />
      <form className="create" onSubmit={submit}>
        <fieldset>
          <legend>New API token</legend>
          <Field label="Name" name="name" required autoComplete="off" />
          <Select label="Permissions" name="preset" options={PRESETS} value={preset} onChange={(event) => setPreset(event.target.value as (typeof PRESETS)[number])} />
          {preset === 'chosen scopes' && (
            <Field label="Scopes" name="scopes" required placeholder="secret:read, environment:*" hint="Actions (secret:read), resource:* or *, separated by commas; only what you hold yourself" />
          )}
          <Field label="Path limit" name="path" placeholder="project/environment/service" hint="Optional: limits the token to a project, environment or service" />
          <Field label="Expires on" name="expires" type="date" hint="Optional: the token stops working after this day (UTC)" />
          <ErrorText error={create.error} />
          <button type="submit" disabled={create.isPending}>Create token</button>
        </fieldset>
      </form>
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
