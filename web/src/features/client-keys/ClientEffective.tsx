import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { ErrorText } from '../../ui/form';
import { Table } from '../../ui/table';
import { clientResolution, decryptResolved, type ClientResolution } from './api';
import type { UnlockedProject } from './crypto';
import { expandReferences, type Expandable } from './references';
import { UnlockPanel } from './UnlockPanel';
import { useUnlocked } from './store';

type Place = { org: string; project: string; env: string; service?: string };
type Resolved = Expandable & { variable_id: string | null; mount_path?: string };

/**
 * The effective configuration of a client-managed project's environment or service: the server
 * answers the merged set as ciphertext (it cannot explain or expand it); the page decrypts each
 * value and expands `${KEY}` references by the server's rules, once unlocked.
 */
export function ClientEffective({ place, member }: { place: Place; member?: string }) {
  const opened = useUnlocked(place.org, place.project);
  const resolution = useQuery({
    queryKey: ['client-resolution', place.org, place.project, place.env, place.service ?? '', member ?? ''],
    queryFn: () => clientResolution(place, member),
    // Each look is a recorded resolution: asked for when the page opens, not behind the person's back.
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
  const [clear, setClear] = useState<{ for: ClientResolution; rows: Resolved[]; omitted: string[] } | { for: ClientResolution; error: string } | null>(null);
  useEffect(() => {
    let current = true;
    if (!opened || !resolution.data) {
      // Locked: the clear values go with the key.
      setClear(null);
      return;
    }
    const data = resolution.data;
    void decryptAll(opened, data).then((result) => current && setClear({ for: data, ...result }), (error: Error) => current && setClear({ for: data, error: error.message }));
    return () => {
      current = false;
    };
  }, [opened, resolution.data]);
  const shown = clear && clear.for === resolution.data ? clear : null;
  const data = resolution.data;
  return (
    <>
      <UnlockPanel org={place.org} project={place.project} />
      <ErrorText error={resolution.error} />
      {resolution.isPending && <p role="status">Resolving…</p>}
      {data && !opened && (
        <Table caption="Resolved variables (encrypted)" columns={['Key', 'Type', 'Won at']}>
          {data.variables.map((v) => (
            <tr key={v.key}><th scope="row"><code>{v.key}</code></th><td>{v.type}</td><td><span className="badge">{v.scope}</span></td></tr>
          ))}
        </Table>
      )}
      {shown && 'error' in shown && <p role="alert" className="error">{shown.error}</p>}
      {shown && 'rows' in shown && (
        <>
          <Table caption="Resolved variables, decrypted in this page" columns={['Key', 'Value', 'Type', 'Won at', 'Actions']}>
            {shown.rows.map((v) => <ClearLine key={v.key} variable={v} />)}
          </Table>
          {shown.omitted.length > 0 && (
            <ul aria-label="Left-out keys">
              {shown.omitted.map((key) => <li key={key}><code>{key}</code>: left out (a credential you may not read, or a reference to one).</li>)}
            </ul>
          )}
        </>
      )}
    </>
  );
}

async function decryptAll(opened: UnlockedProject, data: ClientResolution): Promise<{ rows: Resolved[]; omitted: string[] }> {
  const winners = new Map<string, { variable: Resolved }>();
  for (const variable of data.variables) {
    const value = await decryptResolved(opened, data, variable);
    winners.set(variable.key, { variable: { key: variable.key, value, type: variable.type, scope: variable.scope, variable_id: variable.variable_id, ...(variable.mount_path ? { mount_path: variable.mount_path } : {}) } });
  }
  const omitted = new Set(data.omitted);
  const expanded = expandReferences(winners, omitted);
  const rows = [...expanded.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { rows, omitted: [...omitted].sort() };
}

/** One decrypted row; secrets stay masked until revealed (the value is already in the page, but not on screen). */
function ClearLine({ variable: v }: { variable: Resolved }) {
  const [revealed, setRevealed] = useState(false);
  const masked = v.type !== 'plain' && !revealed;
  return (
    <tr>
      <th scope="row"><code>{v.key}</code></th>
      <td className="wrap"><code data-testid="value">{masked ? '********' : v.value}</code>{v.mount_path && <small> mounted at {v.mount_path}</small>}</td>
      <td>{v.type}</td>
      <td><span className="badge">{v.scope}</span></td>
      <td className="actions">
        {v.type !== 'plain' && (
          <button type="button" onClick={() => setRevealed(!revealed)} aria-label={`${revealed ? 'Hide' : 'Reveal'} ${v.key}`}>{revealed ? 'Hide' : 'Reveal'}</button>
        )}
      </td>
    </tr>
  );
}
