import { useMutation } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { ErrorText } from '../../ui/form';
import { importVariables, type Scope, type Variable } from './api';
import { parseDotenv } from './dotenv';

/**
 * Bulk paste of a `.env` file, read as `coffer vars import` reads it (npm dotenv's rules):
 * each key is created, or updated when the scope already has it (keeping its type unless
 * "as secrets" is ticked), in one all-or-nothing batch request, as `coffer import` writes.
 * Values are never logged or shown back, only keys and counts; a refusal names the key and
 * nothing is written.
 */
export function BulkPaste({ scope, existing, onDone }: { scope: Scope; existing: readonly Variable[]; onDone: () => void }) {
  const id = useId();
  const [text, setText] = useState('');
  const [secret, setSecret] = useState(false);
  const [done, setDone] = useState(0);
  const entries = parseDotenv(text);
  const byKey = new Map(existing.filter((v) => v.key !== null && v.assignee_user_id === null).map((v) => [v.key!, v]));
  const updates = [...entries.keys()].filter((key) => byKey.has(key)).length;
  const run = useMutation({
    mutationFn: async () => {
      const variables = [...entries].map(([key, value]) => ({ key, value, ...(secret ? { type: 'secret' as const } : {}) }));
      try {
        const outcome = await importVariables(scope, variables);
        setDone(outcome.created.length + outcome.updated.length);
        return outcome;
      } catch (error) {
        // The API names the refused item as body.variables[i]: say which key that is.
        const message = error instanceof Error ? error.message : String(error);
        const index = /variables\[(\d+)\]/.exec(message)?.[1];
        const key = index === undefined ? undefined : variables[Number(index)]?.key;
        throw new Error(`${key ? `${key}: ` : ''}${message}. Nothing was imported; fix it and paste again`);
      }
    },
    onSuccess: () => {
      setText('');
      onDone();
    },
  });
  return (
    <form className="create" onSubmit={(event) => { event.preventDefault(); setDone(0); run.mutate(); }}>
      <fieldset>
        <legend>Paste a .env file</legend>
        <div className="field">
          <label htmlFor={id}>.env contents</label>
          <textarea id={id} rows={8} spellCheck={false} autoComplete="off" value={text} onChange={(event) => setText(event.target.value)} placeholder={'KEY=value\nOTHER="quoted value"'} />
        </div>
        <div className="field check">
          <input id={`${id}-secret`} type="checkbox" checked={secret} onChange={(event) => setSecret(event.target.checked)} />
          <label htmlFor={`${id}-secret`}>Store them as secrets</label>
        </div>
        <p role="status">
          {run.isPending || run.isSuccess
            ? `Imported ${done} of ${entries.size} (unchanged values are left alone).`
            : `${entries.size} variables found: ${entries.size - updates} new, ${updates} to update${entries.size ? ` (${[...entries.keys()].join(', ')})` : ''}.`}
        </p>
        <ErrorText error={run.error} />
        <button type="submit" disabled={run.isPending || entries.size === 0}>Import {entries.size} variables</button>
        <button type="button" onClick={onDone}>Cancel</button>
      </fieldset>
    </form>
  );
}
