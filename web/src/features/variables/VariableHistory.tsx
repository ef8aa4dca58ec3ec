import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { Table, When } from '../../ui/table';
import { ErrorText } from '../../ui/form';
import { listVersions, rollbackVariable, type Scope, type VariableVersion } from './api';

/** What changed in a plain value from the version before; secrets and others only say that they changed. */
function change(version: VariableVersion, previous: VariableVersion | undefined): string {
  if (!previous) return 'created';
  // A client-managed project's values are ciphertext bound to each version: comparing them says nothing.
  if (version.encryption === 'client') return version.type === previous.type ? 'value changed (client-encrypted, not shown)' : `type ${previous.type} → ${version.type}`;
  if (version.type !== 'plain' || previous.type !== 'plain') return version.type === previous.type ? 'value changed (not shown)' : `type ${previous.type} → ${version.type}`;
  if (version.value === previous.value) return 'value unchanged';
  return `${previous.value ?? '∅'} → ${version.value ?? '∅'}`;
}

/**
 * A variable's versions, newest first, with who and when, what changed in plain values, and a
 * rollback to any earlier version for those who may write (it becomes a new version).
 */
export function VariableHistory(props: { scope: Scope; id: string; name: string; canWrite: boolean; onClose: () => void; onRolledBack: () => void }) {
  const { scope, id, name } = props;
  const versions = useQuery({ queryKey: ['variable-versions', scope.org, scope.project ?? '', scope.env ?? '', scope.service ?? '', id], queryFn: () => listVersions(scope, id) });
  const rollback = useMutation({
    mutationFn: (version: number) => rollbackVariable(scope, id, version),
    onSuccess: () => {
      void versions.refetch();
      props.onRolledBack();
    },
  });
  const items = versions.data ?? [];
  // Opened from a row's button: focus goes to the history's heading, so it is announced and Tab continues there.
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section aria-labelledby="history-title" className="history">
      <h2 id="history-title" ref={heading} tabIndex={-1}>History of {name}</h2>
      <button type="button" onClick={props.onClose}>Close history</button>
      <ErrorText error={versions.error ?? rollback.error} />
      {items.length > 0 && (
        <Table caption={<>Versions of {name}, newest first</>} columns={['Version', 'Operation', 'Change', 'By', 'When', props.canWrite && 'Actions']}>
          {items.map((v, index) => (
            <tr key={v.version}>
              <th scope="row">{v.version}</th>
              <td>{v.operation}{v.rolled_back_from !== null && ` (from version ${v.rolled_back_from})`}</td>
              <td><code>{change(v, items[index + 1])}</code></td>
              <td>{v.actor.name}</td>
              <td><When iso={v.created_at} /></td>
              {props.canWrite && (
                <td>
                  {index > 0 && v.operation !== 'DELETE' && (
                    <button type="button" disabled={rollback.isPending} onClick={() => rollback.mutate(v.version)}>
                      Roll back to version {v.version}
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
