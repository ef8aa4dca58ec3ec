import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorText, Field, Page } from '../../ui/form';
import { useCan } from '../authz/can';
import { parseRoleJson, roleInputOf, rolesKey, usePlaces, type Role, type RoleInput } from './api';
import { inputOf, matrixOf, type Matrix, type Places } from './matrix';
import { ClusterLevels, EnvironmentSets, ProjectMatrix } from './MatrixFields';

type Tab = 'matrix' | 'json';

/**
 * A custom role's editor (`roles/new` or `roles/:role`): the matrix of cluster levels, project ×
 * environment-type levels and per-environment permission sets, and a JSON tab showing the body the
 * API takes (seed 001's `platformengineer.json` can be pasted as it is). Saving sends the one body
 * either tab holds; the server validates it.
 */
export function RoleEditor() {
  const { org = '', role: roleId } = useParams();
  const isNew = roleId === undefined;
  const navigate = useNavigate();
  const queries = useQueryClient();
  const canManage = useCan(org, 'member:manage');
  const { clusters, projects, environments } = usePlaces(org, canManage);
  const role = useQuery({
    queryKey: ['/api/v1/orgs/{org}/roles/{role_id}', org, roleId],
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/roles/{role_id}', { params: { path: { org, role_id: roleId! } } })),
    enabled: !isNew && canManage,
  });
  const [matrix, setMatrix] = useState<Matrix | null>(isNew ? matrixOf({ name: '' }) : null);
  const [tab, setTab] = useState<Tab>('matrix');
  const [json, setJson] = useState('');
  const [jsonError, setJsonError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);
  const tabs = useId();
  useEffect(() => {
    if (role.data && !matrix) setMatrix(matrixOf(roleInputOf(role.data)));
  }, [role.data, matrix]);

  const places: Places | undefined =
    clusters.data && projects.data && environments.data
      ? { clusters: clusters.data.items, projects: projects.data.items, environments: environments.data }
      : undefined;
  const done = (saved: Role) => {
    void queries.invalidateQueries({ queryKey: rolesKey(org) });
    queries.setQueryData(['/api/v1/orgs/{org}/roles/{role_id}', org, saved.id], saved);
    // What the server kept (names filled in from ids) is what the editor shows from now on.
    setMatrix(matrixOf(roleInputOf(saved)));
    setTab('matrix');
    navigate(`/orgs/${org}/roles/${saved.id}`);
  };
  const save = useMutation({
    mutationFn: async (body: RoleInput) =>
      isNew
        ? unwrap(await api.POST('/api/v1/orgs/{org}/roles', { params: { path: { org } }, body }))
        : unwrap(await api.PUT('/api/v1/orgs/{org}/roles/{role_id}', { params: { path: { org, role_id: roleId } }, body })),
    onSuccess: done,
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE('/api/v1/orgs/{org}/roles/{role_id}', { params: { path: { org, role_id: roleId! } } })),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: rolesKey(org) });
      navigate(`/orgs/${org}/roles`);
    },
  });

  const title = isNew ? 'New custom role' : `Role ${role.data?.name ?? ''}`;
  if (!canManage) {
    return (
      <Page title={title}>
        <p>Managing custom roles needs the member:manage permission in this organization.</p>
      </Page>
    );
  }
  const error = clusters.error ?? projects.error ?? environments.error ?? role.error;
  if (!matrix || !places) {
    return (
      <Page title={title}>
        <ErrorText error={error} />
        {!error && <p role="status">Loading…</p>}
      </Page>
    );
  }

  const parsed = (): RoleInput | undefined => {
    try {
      setJsonError(null);
      return parseRoleJson(json);
    } catch (problem) {
      setJsonError(new Error(`The JSON does not parse: ${problem instanceof Error ? problem.message : String(problem)}`));
      return undefined;
    }
  };
  const choose = (next: Tab) => {
    if (next === tab) return;
    if (next === 'json') setJson(JSON.stringify(inputOf(matrix, places), null, 2));
    else {
      const input = parsed();
      if (!input) return;
      setMatrix(matrixOf(input));
    }
    setTab(next);
  };
  const tabButton = (id: Tab, label: string) => (
    <button type="button" role="tab" id={`${tabs}-${id}`} aria-selected={tab === id} aria-controls={`${tabs}-panel`} onClick={() => choose(id)}>
      {label}
    </button>
  );

  return (
    <Page title={title}>
      <div role="tablist" aria-label="Edit the role as" className="tablist">
        {tabButton('matrix', 'Permissions')}
        {tabButton('json', 'JSON')}
      </div>
      <div role="tabpanel" id={`${tabs}-panel`} aria-labelledby={`${tabs}-${tab}`}>
        {tab === 'matrix' ? (
          <form onSubmit={(event) => {
            event.preventDefault();
            save.mutate(inputOf(matrix, places));
          }}>
            <Field label="Role name" required value={matrix.name} onChange={(event) => setMatrix({ ...matrix, name: event.target.value })} />
            <Field label="Description" value={matrix.description} onChange={(event) => setMatrix({ ...matrix, description: event.target.value })} />
            <ClusterLevels matrix={matrix} places={places} onChange={setMatrix} />
            <ProjectMatrix matrix={matrix} places={places} onChange={setMatrix} />
            <EnvironmentSets matrix={matrix} places={places} onChange={setMatrix} />
            <ErrorText error={save.error} />
            <button type="submit" disabled={save.isPending}>Save role</button>
          </form>
        ) : (
          <form onSubmit={(event) => {
            event.preventDefault();
            const input = parsed();
            if (input) save.mutate(input);
          }}>
            <div className="field">
              <label htmlFor={`${tabs}-text`}>Role JSON</label>
              <textarea id={`${tabs}-text`} className="code" rows={24} spellCheck={false} value={json} onChange={(event) => setJson(event.target.value)}
                aria-describedby={`${tabs}-text-hint`} />
              <small id={`${tabs}-text-hint`} className="hint">The body of PUT …/roles/:id; names are filled in from the ids.</small>
            </div>
            <ErrorText error={jsonError ?? save.error} />
            <button type="submit" disabled={save.isPending}>Save role from JSON</button>
          </form>
        )}
      </div>
      {!isNew && (
        <div className="notice">
          {confirming ? (
            <>
              <button type="button" className="danger" disabled={remove.isPending} onClick={() => remove.mutate()}>Confirm deleting {role.data?.name}</button>
              <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
            </>
          ) : (
            <button type="button" onClick={() => setConfirming(true)}>Delete role</button>
          )}
          <ErrorText error={remove.error} />
        </div>
      )}
    </Page>
  );
}
