import { api, unwrap } from '../../api/client';
import { Field } from '../../ui/form';
import { AuthForm, useSignInMutation } from './AuthForm';
import { SsoSignIn } from './SsoSignIn';

/** Signs in: the server sets the HttpOnly session cookie; the token in the answer is not kept. */
export function SignIn() {
  // The answer's bearer token is dropped at once: the console's session is the HttpOnly cookie.
  const { mutation: login, from } = useSignInMutation(async (body: { email: string; password: string }) => {
    unwrap(await api.POST('/api/v1/auth/login', { body }));
  });
  return (
    <AuthForm title="Sign in to Coffer" submit="Sign in" mutation={login} from={from}
      other={{ question: 'No account yet?', to: '/signup', link: 'Create an account' }}
      after={<SsoSignIn />}
      onSubmit={({ email = '', password = '' }) => login.mutate({ email, password })}>
      <Field label="Email" name="email" type="email" autoComplete="username" required />
      <Field label="Password" name="password" type="password" autoComplete="current-password" required />
    </AuthForm>
  );
}
