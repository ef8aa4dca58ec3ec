import { useMutation, useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { useMe } from '../auth/session';
import { useCan } from '../authz/can';
import { ErrorText, Page } from '../../ui/form';
import { Table } from '../../ui/table';
import { useEncryption } from '../client-keys/api';
import { ClientEffective } from '../client-keys/ClientEffective';
import { DOWNLOADS, download, explain, revealOne, type Download, type Explanation, type Place, type PgEntry, type Provenance } from './api';

const overridden = (overrides: Provenance[]) => (overrides.length === 0 ? 'nothing' : overrides.map((o) => o.scope).join(', '));

/**
 * "Effective configuration" of an environment or a service: the resolved set as the API
 * explains it (which scope won each key, which lower scopes it overrides, the keys it
 * references, built-ins, what is left out and why), secrets masked until revealed one at a
 * time, and the set downloaded in each format. Resolving needs secret:decrypt there.
 */
export function EffectiveConfigPage() {
  const place = useParams() as unknown as Place;
  const resource = [place.project, place.env, place.service].filter(Boolean).join('/');
  const canResolve = useCan(place.org, 'secret:decrypt', resource);
  const canAskForOthers = useCan(place.org, 'authz:check');
  const [member, setMember] = useState('');
  const asked = useEncryption(place.org, place.project);
  const title = place.service ? `Effective configuration of service ${place.service}` : `Effective configuration of environment ${place.env}`;
  const back = `/orgs/${place.org}/projects/${place.project}/environments/${place.env}`;
  const explained = useQuery({
    queryKey: ['explain', place.org, place.project, place.env, place.service ?? '', member],
    queryFn: () => explain(place, member || undefined),
    // A client-managed project's answer is ciphertext, with nothing to explain: ClientEffective reads it.
    enabled: canResolve && asked === 'server',
    // Each look is a recorded resolution: asked for when the page opens, not behind the person's back.
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
  // A client-managed answer has no explanation, only ciphertext: ClientEffective reads it.
  const encryption = explained.data && 'encryption' in explained.data ? 'client' : asked;
  const data = encryption === 'client' ? undefined : explained.data;
  const own = data?.variables.filter((v) => v.scope !== 'builtin') ?? [];
  const builtins = data?.variables.filter((v) => v.scope === 'builtin') ?? [];
  return (
    <Page title={title}>
      <p>
        <Link to={place.service ? `${back}/services/${place.service}/variables` : `${back}/variables`}>{place.service ? `Variables of service ${place.service}` : `Variables of environment ${place.env}`}</Link>
        {' · '}
        <Link to={back}>Back to environment {place.env}</Link>
      </p>
      <p className="hint">
        Precedence, lowest first: built-in → organization → project → environment → service → member-assigned. Values are masked as in listings
        (and so is any plain value a secret was expanded into); reveal one at a time. Each look here is recorded in the audit log as a resolution.
      </p>
      {!canResolve && <p>Resolving here needs the permission to decrypt secrets (secret:decrypt), which you do not hold at {resource}.</p>}
      {canResolve && (
        <>
          {canAskForOthers && <MemberPicker org={place.org} value={member} onChange={setMember} />}
          {encryption === 'client' && <ClientEffective place={place} member={member || undefined} />}
          {encryption === 'server' && <Downloads place={place} member={member || undefined} />}
          <ErrorText error={explained.error} />
          {encryption !== 'client' && explained.isPending && <p role="status">Resolving…</p>}
          {data && (
            <>
              <h2>Variables</h2>
              {own.length === 0 ? <p>No variables reach here.</p> : <VariableTable caption="Resolved variables" rows={own} place={place} member={member} />}
              <h2>Built-in variables</h2>
              {builtins.length === 0 ? <p>No service of this environment has outputs you may use.</p> : <VariableTable caption="Built-in variables from service outputs" rows={builtins} place={place} member={member} />}
              <h2>pg_service entries</h2>
              {data.pg_services.length === 0 ? <p>No pg_service entries reach here.</p> : <PgTable rows={data.pg_services} place={place} member={member} />}
              <h2>Left out</h2>
              {data.omitted_reasons.length === 0 ? (
                <p>Nothing is left out for you.</p>
              ) : (
                <ul aria-label="Left-out keys">
                  {data.omitted_reasons.map((o) => (
                    <li key={o.key}><code>{o.key}</code>: left out because it is {o.reason}.</li>
                  ))}
                </ul>
              )}
            </>
          )}
        </>
      )}
    </Page>
  );
}

/** Resolving on a member's behalf (?member=), offered to those who may ask about others (authz:check). */
function MemberPicker({ org, value, onChange }: { org: string; value: string; onChange: (id: string) => void }) {
  const id = useId();
  const me = useMe();
  const members = useQuery({
    queryKey: ['/api/v1/orgs/{org}/members', org],
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/members', { params: { path: { org }, query: { limit: 200 } } })),
  });
  return (
    <div className="field">
      <label htmlFor={id}>Resolve as</label>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">Me</option>
        {members.data?.items.filter((m) => m.user_id !== me.data?.user.id).map((m) => (
          <option key={m.user_id} value={m.user_id}>{m.name} ({m.email})</option>
        ))}
      </select>
    </div>
  );
}

function Downloads({ place, member }: { place: Place; member?: string }) {
  const save = useMutation({ mutationFn: (format: Download) => download(place, format, member) });
  return (
    <div role="group" aria-label="Download the resolved set">
      <span>Download: </span>
      {DOWNLOADS.map((format) => (
        <button key={format} type="button" disabled={save.isPending} onClick={() => save.mutate(format)} aria-label={`Download as ${format}`}>{format}</button>
      ))}
      <ErrorText error={save.error} />
    </div>
  );
}

type VariableRow = Explanation['variables'][number];

function VariableTable({ caption, rows, place, member }: { caption: string; rows: VariableRow[]; place: Place; member: string }) {
  return (
    <Table caption={caption} columns={['Key', 'Value', 'Type', 'Won at', 'Overrides', 'References', 'Actions']}>
      {rows.map((v) => <VariableLine key={v.key} variable={v} place={place} member={member} />)}
    </Table>
  );
}

function VariableLine({ variable: v, place, member }: { variable: VariableRow; place: Place; member: string }) {
  // A revealed value lives in this row's state only: never in the query cache, storage or URL.
  const [revealed, setRevealed] = useState<string | null>(null);
  const reveal = useMutation({
    mutationFn: async () => (await revealOne(place, { key: v.key }, member || undefined)) as string | undefined,
    onSuccess: (value) => setRevealed(value ?? null),
    gcTime: 0,
  });
  return (
    <tr>
      <th scope="row"><code>{v.key}</code></th>
      <td className="wrap"><code data-testid="value">{revealed ?? v.value}</code>{v.mount_path && <small> mounted at {v.mount_path}</small>}</td>
      <td>{v.type}{v.masked && v.type === 'plain' ? ' (holds a secret)' : ''}</td>
      <td><span className="badge">{v.scope}</span></td>
      <td>{overridden(v.overrides)}</td>
      <td>{v.references.length === 0 ? '—' : v.references.map((name) => <code key={name}>{`\${${name}} `}</code>)}</td>
      <td className="actions">
        {v.masked && (revealed === null ? (
          <button type="button" onClick={() => reveal.mutate()} aria-label={`Reveal ${v.key}`}>Reveal</button>
        ) : (
          <button type="button" onClick={() => { setRevealed(null); reveal.reset(); }} aria-label={`Hide ${v.key}`}>Hide</button>
        ))}
        <ErrorText error={reveal.error} />
      </td>
    </tr>
  );
}

function PgTable({ rows, place, member }: { rows: Explanation['pg_services']; place: Place; member: string }) {
  return (
    <Table caption="Resolved pg_service entries" columns={['Service', 'Connection', 'Won at', 'Overrides', 'Actions']}>
      {rows.map((entry) => <PgLine key={entry.service} entry={entry} place={place} member={member} />)}
    </Table>
  );
}

const connection = (e: Omit<PgEntry, 'scope' | 'variable_id'>) =>
  [e.user !== undefined && `user=${e.user}`, e.host !== undefined && `host=${e.host}`, e.port !== undefined && `port=${e.port}`, e.dbname !== undefined && `dbname=${e.dbname}`,
    e.password !== undefined && `password=${e.password}`, e.sslmode !== undefined && `sslmode=${e.sslmode}`, ...Object.entries(e.extra ?? {}).map(([k, value]) => `${k}=${value}`)]
    .filter(Boolean).join(' ');

function PgLine({ entry, place, member }: { entry: Explanation['pg_services'][number]; place: Place; member: string }) {
  const [revealed, setRevealed] = useState<PgEntry | null>(null);
  const reveal = useMutation({
    mutationFn: async () => (await revealOne(place, { service: entry.service }, member || undefined)) as PgEntry | undefined,
    onSuccess: (value) => setRevealed(value ?? null),
    gcTime: 0,
  });
  return (
    <tr>
      <th scope="row"><code>{entry.service}</code></th>
      <td className="wrap"><code data-testid="value">{connection(revealed ?? entry)}</code></td>
      <td><span className="badge">{entry.scope}</span></td>
      <td>{overridden(entry.overrides)}</td>
      <td className="actions">
        {revealed === null ? (
          <button type="button" onClick={() => reveal.mutate()} aria-label={`Reveal ${entry.service}`}>Reveal</button>
        ) : (
          <button type="button" onClick={() => { setRevealed(null); reveal.reset(); }} aria-label={`Hide ${entry.service}`}>Hide</button>
        )}
        <ErrorText error={reveal.error} />
      </td>
    </tr>
  );
}
