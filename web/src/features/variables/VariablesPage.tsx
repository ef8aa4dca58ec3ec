import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { memo, useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { QueryResult, Table, When } from '../../ui/table';
import { ErrorText, Field, Page } from '../../ui/form';
import { useCan } from '../authz/can';
import { deleteVariable, listVariables, resourceOf, revealVariable, variablesPath, type Scope, type Variable } from './api';
import { useMe } from '../auth/session';
import { BulkPaste } from './BulkPaste';
import { VariableForm } from './VariableForm';
import { VariableHistory } from './VariableHistory';
import { clientResolution, decryptResolved, useEncryption, usePlaceIds } from '../client-keys/api';
import { useUnlocked } from '../client-keys/store';
import { UnlockPanel } from '../client-keys/UnlockPanel';
import { useDecryptedListing } from '../client-keys/useDecrypted';

function scopeTitle(scope: Scope): string {
  if (scope.service) return `Variables of service ${scope.service}`;
  if (scope.env) return `Variables of environment ${scope.env}`;
  if (scope.project) return `Variables of project ${scope.project}`;
  return `Variables of organization ${scope.org}`;
}

/** A scope's variables: plain values in clear, secrets masked by the server (SPEC §3). */
export function VariablesPage() {
  const scope = useParams() as unknown as Scope;
  const resource = resourceOf(scope);
  const key = [variablesPath(scope), scope.org, scope.project ?? '', scope.env ?? '', scope.service ?? ''];
  const queries = useQueryClient();
  const list = useQuery({ queryKey: key, queryFn: () => listVariables(scope) });
  const canWrite = useCan(scope.org, 'secret:write', resource);
  // Reveal goes through resolution, which exists for environments and services only.
  const canDecrypt = useCan(scope.org, 'secret:decrypt', resource) && Boolean(scope.env);
  // A client-managed project: values are the clients' ciphertext, read and written here only once unlocked.
  const client = useEncryption(scope.org, scope.project) === 'client';
  const opened = useUnlocked(scope.org, client ? scope.project : undefined);
  const ids = usePlaceIds(scope, Boolean(opened));
  const decrypted = useDecryptedListing(list.data, opened, ids);
  const [editing, setEditing] = useState<Variable | 'new' | 'paste' | null>(null);
  const [filter, setFilter] = useState('');
  const [mine, setMine] = useState(false);
  const [history, setHistory] = useState<{ id: string; name: string } | null>(null);
  const me = useMe().data?.user.id;
  const path = variablesPath(scope);
  // Stable across renders, so the memoised rows are not all drawn again on each keystroke.
  const refresh = useCallback(
    () => queries.invalidateQueries({ queryKey: [path, scope.org, scope.project ?? '', scope.env ?? '', scope.service ?? ''] }),
    [queries, path, scope.org, scope.project, scope.env, scope.service],
  );
  // The table follows the filter a beat behind typing: the field stays responsive over 1,000 rows.
  const needle = useDeferredValue(filter.trim().toLowerCase());
  const shown = useMemo(
    () => list.data?.filter((v) => (!mine || v.assignee_user_id === me) && (!needle || (v.key ?? v.pg_service?.service ?? '').toLowerCase().includes(needle))),
    [list.data, needle, mine, me],
  );
  // A revealed value lives in the page's state only (one at a time): never in the query cache, storage or URL.
  const [revealed, setRevealed] = useState<{ id: string; value: string | null } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const reveal = useMutation({
    mutationFn: async (id: string) => {
      if (!client) return { id, value: (await revealVariable(scope, id)) ?? null };
      if (!opened) throw new Error('Unlock the project with its passphrase first');
      const resolution = await clientResolution(scope as Required<Scope>);
      const found = resolution.variables.find((v) => v.variable_id === id);
      return { id, value: found ? await decryptResolved(opened, resolution, found) : null };
    },
    onSuccess: setRevealed,
    // Not kept in the mutation cache once the page is gone.
    gcTime: 0,
  });
  // Locking forgets what was revealed with the key, too.
  useEffect(() => {
    if (client && !opened) {
      setRevealed(null);
      mutate.current.resetReveal();
    }
  }, [client, opened]);
  const remove = useMutation({ mutationFn: (id: string) => deleteVariable(scope, id), onSuccess: () => { setConfirming(null); void refresh(); } });
  const mutate = useRef({ reveal: reveal.mutate, remove: remove.mutate, resetReveal: reveal.reset });
  mutate.current = { reveal: reveal.mutate, remove: remove.mutate, resetReveal: reveal.reset };
  const actions = useMemo<RowActions>(() => ({
    reveal: (id) => mutate.current.reveal(id),
    hide: () => { setRevealed(null); mutate.current.resetReveal(); },
    confirm: setConfirming,
    remove: (id) => mutate.current.remove(id),
    edit: setEditing,
    history: setHistory,
  }), []);
  // Member-assigned variables (project scope) are "overrides": mine are the ones assigned to me.
  const hasAssigned = Boolean(scope.project && !scope.env);

  return (
    <Page title={scopeTitle(scope)} actions={canWrite && editing === null && (!client || opened) ? (
      <span>
        <button type="button" onClick={() => setEditing('new')}>Add variable</button>
        {/* A batch would have to be read by the server: client values are encrypted one by one. */}
        {!client && <button type="button" onClick={() => setEditing('paste')}>Paste a .env file</button>}
      </span>
    ) : undefined}>
      {scope.project && (
        <p>
          <Link to={scope.env ? `/orgs/${scope.org}/projects/${scope.project}/environments/${scope.env}` : `/orgs/${scope.org}/projects/${scope.project}`}>
            Back to {scope.env ? `environment ${scope.env}` : `project ${scope.project}`}
          </Link>
          {scope.env && (
            <>
              {' · '}
              <Link to={`/orgs/${scope.org}/projects/${scope.project}/environments/${scope.env}${scope.service ? `/services/${scope.service}` : ''}/effective`}>Effective configuration</Link>
            </>
          )}
        </p>
      )}
      {client && scope.project && <UnlockPanel org={scope.org} project={scope.project} />}
      {editing === 'paste' && list.data && (
        <BulkPaste scope={scope} existing={list.data} onDone={() => { setEditing(null); void refresh(); }} />
      )}
      {editing !== null && editing !== 'paste' && (
        <VariableForm
          scope={scope}
          variable={editing === 'new' ? undefined : editing}
          client={opened && ids ? { opened, ids, plain: editing !== 'new' ? decrypted?.get(editing.id) : undefined } : undefined}
          onDone={() => {
            setEditing(null);
            void refresh();
          }}
        />
      )}
      <QueryResult error={list.error} items={list.data} pending={list.isPending} loading="Loading variables…" empty="No variables at this scope yet.">
        {(items) => (
          <div className="filters">
            <Field label="Filter by key" type="search" value={filter} onChange={(event) => setFilter(event.target.value)} autoComplete="off" />
            {hasAssigned && (
              <div className="field check">
                <input id="mine" type="checkbox" checked={mine} onChange={(event) => setMine(event.target.checked)} />
                <label htmlFor="mine">Only my overrides (assigned to me)</label>
              </div>
            )}
            <p role="status">{shown?.length ?? 0} of {items.length} shown</p>
          </div>
        )}
      </QueryResult>
      {shown && shown.length > 0 && (
        <Table caption={scopeTitle(scope)} columns={['Key', 'Type', 'Value', 'Immutable', 'Version', 'Updated', hasAssigned && 'For', 'Actions']}>
          {shown.map((v) => (
            <Row key={v.id} variable={v} canWrite={canWrite && (!client || Boolean(opened))} canDecrypt={canDecrypt && (!client || Boolean(opened))} actions={actions}
              clear={v.encryption === 'client' ? (opened ? decrypted?.get(v.id) ?? { pending: true } : { locked: true }) : undefined}
              revealed={revealed?.id === v.id ? revealed.value : undefined} confirming={confirming === v.id}
              error={(reveal.variables === v.id && reveal.error) || (remove.variables === v.id && remove.error) || undefined}
              forWhom={hasAssigned ? (v.assignee_user_id === null ? 'everyone' : v.assignee_user_id === me ? 'me' : 'a member') : undefined} />
          ))}
        </Table>
      )}
      {history && (
        <VariableHistory key={history.id} scope={scope} id={history.id} name={history.name} canWrite={canWrite} onClose={() => setHistory(null)} onRolledBack={refresh} />
      )}
    </Page>
  );
}

/** What the page does for a row, stable across renders (the rows are memoised). */
interface RowActions {
  reveal: (id: string) => void;
  hide: () => void;
  confirm: (id: string | null) => void;
  remove: (id: string) => void;
  edit: (v: Variable) => void;
  history: (h: { id: string; name: string }) => void;
}

/**
 * One variable. No hooks of its own and memoised: filtering 1,000 rows mounts and unmounts
 * plain table rows only. What a row is doing (a revealed value, a pending delete, an error)
 * is the page's state, one row at a time.
 */
const Row = memo(function Row(props: {
  variable: Variable;
  canWrite: boolean;
  canDecrypt: boolean;
  forWhom?: string;
  /** A client-managed value: decrypted in the page, or why not (yet). */
  clear?: { value: string } | { error: string } | { locked: true } | { pending: true };
  /** Revealed: the value, or null when a lower scope overrides it here. */
  revealed?: string | null;
  confirming: boolean;
  error?: unknown;
  actions: RowActions;
}) {
  const { variable: v, actions, revealed } = props;
  const name = v.key ?? v.pg_service?.service ?? v.id;
  const secret = v.type === 'secret' || v.type === 'file';
  const clear = props.clear;
  const shown = clear && v.type === 'plain'
    ? 'value' in clear ? clear.value : 'locked' in clear ? 'encrypted (unlock to read)' : 'pending' in clear ? 'decrypting…' : ''
    : v.value;
  return (
    <tr>
      <th scope="row">
        <code>{name}</code>
      </th>
      <td>{v.type}</td>
      <td>
        <code data-testid="value">{revealed ?? shown ?? (v.pg_service ? `service ${v.pg_service.service}` : '')}</code>
        {clear && 'error' in clear && <span role="alert" className="error">{clear.error}</span>}
        {revealed === null && <small> Overridden at a lower scope: reveal it where it wins.</small>}
      </td>
      <td>{v.immutable ? 'yes' : 'no'}</td>
      <td>{v.version}</td>
      <td>
        <When iso={v.updated_at} />
      </td>
      {props.forWhom !== undefined && <td>{props.forWhom}</td>}
      <td className="actions">
        {secret && props.canDecrypt && (
          revealed === undefined ? (
            <button type="button" onClick={() => actions.reveal(v.id)} aria-label={`Reveal ${name}`}>Reveal</button>
          ) : (
            <button type="button" onClick={actions.hide} aria-label={`Hide ${name}`}>Hide</button>
          )
        )}
        <button type="button" onClick={() => actions.history({ id: v.id, name })} aria-label={`History of ${name}`}>History</button>
        {props.canWrite && !v.immutable && (
          <button type="button" onClick={() => actions.edit(v)} aria-label={`Edit ${name}`}>Edit</button>
        )}
        {props.canWrite && !v.immutable && (props.confirming ? (
          <>
            <button type="button" className="danger" onClick={() => actions.remove(v.id)} aria-label={`Confirm deleting ${name}`}>Confirm delete</button>
            <button type="button" onClick={() => actions.confirm(null)}>Cancel</button>
          </>
        ) : (
          <button type="button" onClick={() => actions.confirm(v.id)} aria-label={`Delete ${name}`}>Delete</button>
        ))}
        <ErrorText error={props.error} />
      </td>
    </tr>
  );
});
