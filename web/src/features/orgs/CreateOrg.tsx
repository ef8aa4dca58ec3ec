import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorText, Field, Page, formValues } from '../../ui/form';
import { ME_KEY } from '../auth/session';

export function CreateOrg() {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const create = useMutation({
    mutationFn: async (body: { slug: string; name?: string }) => unwrap(await api.POST('/api/v1/orgs', { body })),
    onSuccess: async (created) => {
      await queries.invalidateQueries({ queryKey: ME_KEY });
      navigate(`/orgs/${created.slug}`);
    },
  });
  return (
    <Page title="Create an organization">
      <form onSubmit={(event) => {
        const { slug = '', name = '' } = formValues(event);
        create.mutate(name ? { slug, name } : { slug });
      }}>
        <Field label="Name" name="name" />
        <Field label="Slug" name="slug" required hint="Lower-case letters, digits and dashes" />
        <ErrorText error={create.error} />
        <button type="submit" disabled={create.isPending}>Create organization</button>
      </form>
    </Page>
  );
}
