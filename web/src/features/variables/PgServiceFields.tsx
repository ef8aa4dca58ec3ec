import { useId, useState } from 'react';
import { Field } from '../../ui/form';
import type { CreateVariable, Variable } from './api';

const SSL_MODES = ['', 'disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type PgMode = 'simple' | 'advanced';
type PgServiceBody = NonNullable<CreateVariable['pg_service']>;

/**
 * A pg_service entry as seed 002's two editors write it: the simple form (service, database,
 * user, password, host, port, SSL mode, and extra libpq fields), or the advanced editor's raw
 * `pg_service.conf` section. The API validates both as libpq would and names the line or field.
 */
export function PgServiceFields({ mode, onMode, current }: { mode: PgMode; onMode: (mode: PgMode) => void; current?: Variable }) {
  const group = useId();
  const conf = useId();
  const [extras, setExtras] = useState<number[]>([]);
  const known = current?.pg_service;
  return (
    <>
      <div role="radiogroup" aria-labelledby={group} className="field check">
        <span id={group}>Editor</span>
        {(['simple', 'advanced'] as const).map((each) => (
          <label key={each}>
            <input type="radio" name="pg_mode" value={each} checked={mode === each} onChange={() => onMode(each)} /> {each === 'simple' ? 'Simple editor' : 'Advanced editor (pg_service.conf)'}
          </label>
        ))}
      </div>
      {current && <p className="hint">Stored values are masked and not shown: enter the whole definition again.</p>}
      {mode === 'advanced' ? (
        <div className="field">
          <label htmlFor={conf}>pg_service.conf section</label>
          <textarea id={conf} name="conf" rows={8} spellCheck={false} autoComplete="off" aria-describedby={`${conf}-hint`}
            placeholder={'[my_service]\nhost=db.example.com\ndbname=gis\nuser=reader\npassword=…'} />
          <small id={`${conf}-hint`} className="hint">One [service] section, keyword=value lines as libpq reads them.</small>
        </div>
      ) : (
        <>
          <Field label="Service name" name="pg_service" required defaultValue={known?.service ?? ''} autoComplete="off" />
          <Field label="Database name" name="pg_dbname" autoComplete="off" />
          <Field label="Database user" name="pg_user" autoComplete="off" />
          <Field label="Database password" name="pg_password" type="password" autoComplete="new-password" />
          <Field label="Database host" name="pg_host" autoComplete="off" />
          <Field label="Database port" name="pg_port" inputMode="numeric" defaultValue={known?.port?.toString() ?? ''} autoComplete="off" />
          <SslMode defaultValue={known?.sslmode ?? ''} />
          {extras.map((n, index) => (
            <div key={n} className="extra">
              <Field label={`Extra field ${index + 1} keyword`} name={`extra_key_${n}`} autoComplete="off" />
              <Field label={`Extra field ${index + 1} value`} name={`extra_value_${n}`} type="password" autoComplete="off" />
            </div>
          ))}
          <button type="button" onClick={() => setExtras([...extras, (extras.at(-1) ?? 0) + 1])}>Add extra pgservice field</button>
        </>
      )}
    </>
  );
}

function SslMode({ defaultValue }: { defaultValue: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>Database SSL mode</label>
      <select id={id} name="pg_sslmode" defaultValue={defaultValue}>
        {SSL_MODES.map((mode) => <option key={mode} value={mode}>{mode === '' ? '(not set)' : mode}</option>)}
      </select>
    </div>
  );
}

/** The request body's pg_service part from the form's values: the raw section, or the structured entry (empty fields left out). */
export function pgServiceBody(mode: PgMode, values: Record<string, string>): { value: string } | { pg_service: PgServiceBody } {
  if (mode === 'advanced') return { value: values.conf ?? '' };
  const entry: Record<string, unknown> = { service: values.pg_service ?? '' };
  for (const field of ['dbname', 'user', 'password', 'host', 'sslmode'] as const) {
    const value = values[`pg_${field}`];
    if (value) entry[field] = value;
  }
  // A port that is not a whole number goes as typed, for the API to name the field.
  if (values.pg_port) entry.port = /^\d+$/.test(values.pg_port) ? Number(values.pg_port) : values.pg_port;
  const extra: Record<string, string> = {};
  for (const [name, keyword] of Object.entries(values)) {
    const n = /^extra_key_(\d+)$/.exec(name)?.[1];
    if (n !== undefined && keyword) extra[keyword] = values[`extra_value_${n}`] ?? '';
  }
  if (Object.keys(extra).length > 0) entry.extra = extra;
  return { pg_service: entry as PgServiceBody };
}
