import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorText, Field, formValues } from '../../ui/form';

export type PlaceKind = 'project' | 'environment' | 'service';

/** The API path of a project, environment or service (openapi-fetch fills the {names} from params). */
const PATHS = {
  project: '/api/v1/orgs/{org}/projects/{project}',
  environment: '/api/v1/orgs/{org}/projects/{project}/environments/{env}',
  service: '/api/v1/orgs/{org}/projects/{project}/environments/{env}/services/{service}',
} as const;
type ONE = (typeof PATHS)['service'];
type CASCADE = `${ONE}/cascade`;
type Params = { org: string; project: string; env: string; service: string };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Rename and delete of one place, each offered only when permitted. Deleting first asks the API
 * what the cascade removes (…/cascade) and says it, then waits for a confirmation.
 */
export function ManagePlace(props: { kind: PlaceKind; slug: string; name: string; params: Partial<Params>; canRename: boolean; canDelete: boolean; onRenamed: () => void; onDeleted: () => void }) {
  const { kind, slug } = props;
  const params = props.params as Params;
  const [renaming, setRenaming] = useState(false);
  const rename = useMutation({
    mutationFn: async (name: string) => unwrap(await api.PATCH(PATHS[kind] as ONE, { params: { path: params }, body: { name } })),
    onSuccess: () => { setRenaming(false); props.onRenamed(); },
  });
  const cascade = useMutation({ mutationFn: async () => unwrap(await api.GET(`${PATHS[kind]}/cascade` as CASCADE, { params: { path: params } })) });
  const remove = useMutation({ mutationFn: async () => unwrap(await api.DELETE(PATHS[kind] as ONE, { params: { path: params } })), onSuccess: props.onDeleted });
  if (!props.canRename && !props.canDelete) return null;
  const counts = cascade.data;
  const parts = counts && [kind === 'project' && plural(counts.environments, 'environment'), kind !== 'service' && plural(counts.services, 'service'), plural(counts.variables, 'variable')].filter(Boolean);
  return (
    <div className="manage">
      {props.canRename && (renaming ? (
        <form className="inline" onSubmit={(event) => rename.mutate(formValues(event).name ?? '')}>
          <Field label={`New name of ${kind} ${slug}`} name="name" required defaultValue={props.name} autoComplete="off" />
          <button type="submit" disabled={rename.isPending}>Save name</button>
          <button type="button" onClick={() => setRenaming(false)}>Cancel</button>
        </form>
      ) : (
        <button type="button" onClick={() => setRenaming(true)} aria-label={`Rename ${kind} ${slug}`}>Rename</button>
      ))}
      {props.canDelete && (counts ? (
        <div role="alert" className="notice">
          <p>
            Deleting {kind} {slug} also removes {parts!.length > 1 ? `${parts!.slice(0, -1).join(', ')} and ${parts!.at(-1)}` : parts![0]} (with their history). This cannot be undone.
          </p>
          <button type="button" className="danger" disabled={remove.isPending} onClick={() => remove.mutate()}>Confirm deleting {kind} {slug}</button>
          <button type="button" onClick={() => cascade.reset()}>Keep it</button>
        </div>
      ) : (
        <button type="button" disabled={cascade.isPending} onClick={() => cascade.mutate()} aria-label={`Delete ${kind} ${slug}`}>Delete</button>
      ))}
      <ErrorText error={rename.error ?? cascade.error ?? remove.error} />
    </div>
  );
}
