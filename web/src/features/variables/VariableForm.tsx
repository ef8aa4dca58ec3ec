import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { ErrorText, Field, Select, formValues } from '../../ui/form';
import { createVariable, updateVariable, type CreateVariable, type Scope, type Variable } from './api';

const TYPES = ['plain', 'secret', 'file'] as const;
type Kind = (typeof TYPES)[number];

/** Adds a variable, or changes one (a new version); the server validates keys, types and paths. */
export function VariableForm({ scope, variable, onDone }: { scope: Scope; variable?: Variable; onDone: () => void }) {
  const [type, setType] = useState<Kind>((variable?.type as Kind | undefined) ?? 'plain');
  const save = useMutation({
    mutationFn: async (values: Record<string, string>) => {
      const value = values.value ?? '';
      const mount = type === 'file' ? { mount_path: values.mount_path ?? '' } : {};
      if (variable) return updateVariable(scope, variable.id, { type, value, ...mount });
      const body: CreateVariable = { key: values.key ?? '', type, value, ...mount, ...(values.immutable === 'on' ? { immutable: true } : {}) };
      return createVariable(scope, body);
    },
    onSuccess: onDone,
  });
  const name = variable?.key ?? '';
  return (
    <form className="create" onSubmit={(event) => save.mutate(formValues(event))}>
      <fieldset>
        <legend>{variable ? `Edit ${name}` : 'New variable'}</legend>
        {!variable && <Field label="Key" name="key" required autoComplete="off" />}
        <Select label="Type" name="type" options={TYPES} value={type} onChange={(event) => setType(event.target.value as Kind)} />
        {/* A secret is typed into a password field, never echoed; a plain value may be shown. */}
        <Field
          label={variable && type !== 'plain' ? 'New value' : 'Value'}
          name="value"
          type={type === 'plain' ? 'text' : 'password'}
          autoComplete="off"
          defaultValue={variable && variable.type === 'plain' ? (variable.value ?? '') : ''}
        />
        {type === 'file' && <Field label="Mount path" name="mount_path" required defaultValue={variable?.mount_path ?? ''} hint="An absolute path, e.g. /etc/app/key.pem" />}
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
