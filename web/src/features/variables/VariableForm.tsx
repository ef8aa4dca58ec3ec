import { useMutation, useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorText, Field, Select, formValues } from '../../ui/form';
import { useMe } from '../auth/session';
import { createVariable, updateVariable, type CreateVariable, type Scope, type Variable } from './api';
import { PgServiceFields, pgServiceBody, type PgMode } from './PgServiceFields';
import { encryptAt, valueScope } from '../client-keys/api';
import type { UnlockedProject } from '../client-keys/crypto';

/** A client-managed project, unlocked: values are encrypted here, bound to where they live and the version the write creates. */
export interface ClientWrite {
  opened: UnlockedProject;
  ids: { environmentId: string | null; serviceId: string | null };
  /** The decrypted current value of a plain variable being edited. */
  plain?: { value: string } | { error: string };
}

const TYPES = ['plain', 'secret', 'file', 'pg_service'] as const;
type Kind = (typeof TYPES)[number];

/** Adds a variable, or changes one (a new version); the server validates keys, types, paths and pg_service entries. */
export function VariableForm({ scope, variable, onDone, client }: { scope: Scope; variable?: Variable; onDone: () => void; client?: ClientWrite }) {
  const [type, setType] = useState<Kind>((variable?.type as Kind | undefined) ?? 'plain');
  const [mode, setMode] = useState<PgMode>('simple');
  // Member-assigned variables live at the project (SPEC §3): they win for that member only.
  const assignable = Boolean(scope.project && !scope.env && !variable);
  const save = useMutation({
    mutationFn: async (values: Record<string, string>) => {
      const assignee = values.assignee ? { assignee_user_id: values.assignee } : {};
      if (type === 'pg_service') {
        const entry = pgServiceBody(mode, values);
        if (variable) return updateVariable(scope, variable.id, { type, ...entry });
        return createVariable(scope, { type, ...entry, ...assignee, ...(values.immutable === 'on' ? { immutable: true } : {}) });
      }
      let value = values.value ?? '';
      const mount = type === 'file' ? { mount_path: values.mount_path ?? '' } : {};
      if (client) {
        // Encrypted in the page; the server stores ciphertext bound to this key name, place and version.
        const name = variable?.key ?? values.key ?? '';
        const assigneeId = variable ? variable.assignee_user_id : values.assignee || null;
        const level = assigneeId ? 'member' : variable ? variable.scope : scope.service ? 'service' : scope.env ? 'environment' : 'project';
        const version = variable ? variable.version + 1 : 1;
        value = await encryptAt(client.opened, value, valueScope(level, { ...client.ids, memberId: assigneeId }), name, version);
        if (variable) return updateVariable(scope, variable.id, { type, value, ...mount, version });
        return createVariable(scope, { key: name, type, value, version, ...mount, ...assignee, ...(values.immutable === 'on' ? { immutable: true } : {}) });
      }
      if (variable) return updateVariable(scope, variable.id, { type, value, ...mount });
      const body: CreateVariable = { key: values.key ?? '', type, value, ...mount, ...assignee, ...(values.immutable === 'on' ? { immutable: true } : {}) };
      return createVariable(scope, body);
    },
    onSuccess: onDone,
  });
  const name = variable?.key ?? variable?.pg_service?.service ?? '';
  return (
    <form className="create" onSubmit={(event) => save.mutate(formValues(event))}>
      <fieldset>
        <legend>{variable ? `Edit ${name}` : 'New variable'}</legend>
        <Select label="Type" name="type" options={variable?.type === 'pg_service' ? ['pg_service'] : client ? TYPES.filter((t) => t !== 'pg_service') : TYPES} value={type} onChange={(event) => setType(event.target.value as Kind)} />
        {type === 'pg_service' ? (
          <PgServiceFields mode={mode} onMode={setMode} current={variable} />
        ) : (
          <>
            {!variable && <Field label="Key" name="key" required autoComplete="off" />}
            {/* A secret is typed into a password field, never echoed; a plain value may be shown. */}
            <Field
              label={variable && type !== 'plain' ? 'New value' : 'Value'}
              name="value"
              type={type === 'plain' ? 'text' : 'password'}
              autoComplete="off"
              defaultValue={variable && variable.type === 'plain' ? (client ? (client.plain && 'value' in client.plain ? client.plain.value : '') : (variable.value ?? '')) : ''}
            />
            {type === 'file' && <Field label="Mount path" name="mount_path" required defaultValue={variable?.mount_path ?? ''} hint="An absolute path, e.g. /etc/app/key.pem" />}
          </>
        )}
        {assignable && <AssigneeSelect org={scope.org} />}
        {!variable && (
          <div className="field check">
            <input id="immutable" type="checkbox" name="immutable" />
            <label htmlFor="immutable">Immutable (cannot be changed or deleted later)</label>
          </div>
        )}
        <ErrorText error={save.error} />
        <button type="submit" disabled={save.isPending}>{variable ? 'Save' : 'Add'}</button>
        <button type="button" onClick={onDone}>Cancel</button>
      </fieldset>
    </form>
  );
}

/** "For": everyone in the project, or one member (their override, highest precedence). */
function AssigneeSelect({ org }: { org: string }) {
  const id = useId();
  const me = useMe();
  const members = useQuery({
    queryKey: ['/api/v1/orgs/{org}/members', org],
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/members', { params: { path: { org }, query: { limit: 200 } } })),
  });
  return (
    <div className="field">
      <label htmlFor={id}>For</label>
      <select id={id} name="assignee" defaultValue="" aria-describedby={`${id}-hint`}>
        <option value="">Everyone in the project</option>
        {members.data?.items.map((m) => (
          <option key={m.user_id} value={m.user_id}>{m.user_id === me.data?.user.id ? `Me (${m.email})` : `${m.name} (${m.email})`}</option>
        ))}
      </select>
      <small id={`${id}-hint`} className="hint">A member-assigned value overrides every other scope for that member only.</small>
    </div>
  );
}
