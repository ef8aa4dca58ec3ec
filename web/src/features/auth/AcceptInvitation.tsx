import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate, useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorText, Page } from '../../ui/form';
import { ME_KEY } from './session';

/** The link an invitation gives (`/invitations/<token>`): joins the organization as the signed-in person. */
export function AcceptInvitation() {
  const { token = '' } = useParams();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const accept = useMutation({
    mutationFn: async () => unwrap(await api.POST('/api/v1/invitations/{token}/accept', { params: { path: { token } } })),
    onSuccess: async (joined) => {
      await queries.invalidateQueries({ queryKey: ME_KEY });
      navigate(`/orgs/${joined.organization.slug}`);
    },
  });
  return (
    <Page title="Accept an invitation">
      <p>You were invited to join an organization. Accepting adds it to your organizations with the role the invitation names.</p>
      <ErrorText error={accept.error} />
      <button type="button" onClick={() => accept.mutate()} disabled={accept.isPending}>
        Accept invitation
      </button>
    </Page>
  );
}
