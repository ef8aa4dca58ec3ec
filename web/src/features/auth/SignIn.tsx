import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useLocation, useNavigate } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorText, Field, Page, formValues } from '../../ui/form';
import { ME_KEY } from './session';

/** Signs in: the server sets the HttpOnly session cookie; the token in the answer is not kept. */
export function SignIn() {
  const navigate = useNavigate();
  const from = (useLocation().state as { from?: string } | null)?.from;
  const queries = useQueryClient();
  const login = useMutation({
    // The answer's bearer token is dropped at once: the console's session is the HttpOnly cookie.
    mutationFn: async (body: { email: string; password: string }) => {
      unwrap(await api.POST('/api/v1/auth/login', { body }));
    },
    gcTime: 0,
    onSuccess: async () => {
      queries.clear();
      await queries.invalidateQueries({ queryKey: ME_KEY });
      // Only a path of this console: never an address elsewhere.
      navigate(from?.startsWith('/') && !from.startsWith('//') ? from : '/');
    },
  });
  return (
    <main id="main" className="narrow">
      <Page title="Sign in to Coffer">
        <form onSubmit={(event) => {
          const { email = '', password = '' } = formValues(event);
          login.mutate({ email, password });
        }}>
          <Field label="Email" name="email" type="email" autoComplete="username" required />
          <Field label="Password" name="password" type="password" autoComplete="current-password" required />
          <ErrorText error={login.error} />
          <button type="submit" disabled={login.isPending}>Sign in</button>
        </form>
        <p>
          No account yet? <Link to="/signup" state={from ? { from } : undefined}>Create an account</Link>
        </p>
      </Page>
    </main>
  );
}
