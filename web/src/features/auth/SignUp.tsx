import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useLocation, useNavigate } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorText, Field, Page, formValues } from '../../ui/form';
import { ME_KEY } from './session';

/** Creates an account, then signs in with it (the API's two steps). */
export function SignUp() {
  const navigate = useNavigate();
  const from = (useLocation().state as { from?: string } | null)?.from;
  const queries = useQueryClient();
  const signup = useMutation({
    mutationFn: async (body: { email: string; password: string; name: string }) => {
      unwrap(await api.POST('/api/v1/auth/signup', { body }));
      // The answer's bearer token is dropped at once: the console's session is the HttpOnly cookie.
      unwrap(await api.POST('/api/v1/auth/login', { body: { email: body.email, password: body.password } }));
    },
    gcTime: 0,
    onSuccess: async () => {
      queries.clear();
      await queries.invalidateQueries({ queryKey: ME_KEY });
      navigate(from?.startsWith('/') && !from.startsWith('//') ? from : '/');
    },
  });
  return (
    <main id="main" className="narrow">
      <Page title="Create your Coffer account">
        <form onSubmit={(event) => {
          const { email = '', password = '', name = '' } = formValues(event);
          signup.mutate({ email, password, name });
        }}>
          <Field label="Name" name="name" autoComplete="name" required />
          <Field label="Email" name="email" type="email" autoComplete="username" required />
          <Field label="Password" name="password" type="password" autoComplete="new-password" required hint="At least 12 characters" />
          <ErrorText error={signup.error} />
          <button type="submit" disabled={signup.isPending}>Create account</button>
        </form>
        <p>
          Have an account? <Link to="/signin" state={from ? { from } : undefined}>Sign in</Link>
        </p>
      </Page>
    </main>
  );
}
