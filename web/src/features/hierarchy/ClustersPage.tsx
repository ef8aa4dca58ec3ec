import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorText, Field, FieldsetForm, Page, formValues } from '../../ui/form';
import { QueryResult, Table } from '../../ui/table';
import { useCan } from '../authz/can';

type Cluster = { id: string; name: string; region: string | null };

/**
 * The organization's clusters: listed for whoever may see them; created and deleted with
 * cluster:manage, renamed with cluster:write on that cluster. The API refuses to delete a
 * cluster that still hosts environments, and says so.
 */
export function ClustersPage() {
  const { org } = useParams() as { org: string };
  const queries = useQueryClient();
  const key = ['/api/v1/orgs/{org}/clusters', org];
  const list = useQuery({ queryKey: key, queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/clusters', { params: { path: { org }, query: { limit: 200 } } })) });
  const canManage = useCan(org, 'cluster:manage');
  const refresh = () => queries.invalidateQueries({ queryKey: key });
  const create = useMutation({
    mutationFn: async (body: { name: string; region?: string }) => unwrap(await api.POST('/api/v1/orgs/{org}/clusters', { params: { path: { org } }, body })),
    onSuccess: refresh,
  });
  return (
    <Page title="Clusters">
      <QueryResult error={list.error} items={list.data?.items} pending={list.isPending} loading="Loading clusters…" empty="No clusters yet.">
        {(items) => (
          <Table caption="Clusters" columns={['Name', 'Region', 'Actions']}>
            {items.map((c) => <ClusterRow key={c.id} org={org} cluster={c} canManage={canManage} onChanged={refresh} />)}
          </Table>
        )}
      </QueryResult>
      {canManage && (
        <FieldsetForm legend="New cluster" submit="Create cluster" error={create.error} pending={create.isPending}
          onSubmit={(v) => create.mutate({ name: v.name ?? '', ...(v.region ? { region: v.region } : {}) })}>
          <Field label="Name" name="name" required autoComplete="off" />
          <Field label="Region" name="region" autoComplete="off" hint="Optional, e.g. eu-west-3" />
        </FieldsetForm>
      )}
    </Page>
  );
}

function ClusterRow({ org, cluster, canManage, onChanged }: { org: string; cluster: Cluster; canManage: boolean; onChanged: () => void }) {
  const canWrite = useCan(org, 'cluster:write', `cluster:${cluster.id}`);
  const [renaming, setRenaming] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const path = { org, cluster_id: cluster.id };
  const rename = useMutation({
    mutationFn: async (name: string) => unwrap(await api.PATCH('/api/v1/orgs/{org}/clusters/{cluster_id}', { params: { path }, body: { name } })),
    onSuccess: () => { setRenaming(false); onChanged(); },
  });
  const remove = useMutation({ mutationFn: async () => unwrap(await api.DELETE('/api/v1/orgs/{org}/clusters/{cluster_id}', { params: { path } })), onSuccess: onChanged });
  return (
    <tr>
      <th scope="row">{cluster.name}</th>
      <td>{cluster.region ?? '—'}</td>
      <td className="actions">
        {canWrite && (renaming ? (
          <form className="inline" onSubmit={(event) => rename.mutate(formValues(event).name ?? '')}>
            <Field label={`New name of cluster ${cluster.name}`} name="name" required defaultValue={cluster.name} autoComplete="off" />
            <button type="submit">Save name</button>
            <button type="button" onClick={() => setRenaming(false)}>Cancel</button>
          </form>
        ) : (
          <button type="button" onClick={() => setRenaming(true)} aria-label={`Rename cluster ${cluster.name}`}>Rename</button>
        ))}
        {canManage && (confirming ? (
          <>
            <button type="button" className="danger" onClick={() => remove.mutate()} aria-label={`Confirm deleting cluster ${cluster.name}`}>Confirm delete</button>
            <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
          </>
        ) : (
          <button type="button" onClick={() => setConfirming(true)} aria-label={`Delete cluster ${cluster.name}`}>Delete</button>
        ))}
        <ErrorText error={rename.error ?? remove.error} />
      </td>
    </tr>
  );
}
