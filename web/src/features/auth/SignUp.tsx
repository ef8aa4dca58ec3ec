import { api, unwrap } from '../../api/client';
import { Field } from '../../ui/form';
import { AuthForm, useSignInMutation } from './AuthForm';

/** Creates an account, then signs in with it (the API's two steps). */
export function SignUp() {
  const { mutation: signup, from } = useSignInMutation(async (body: { email: string; password: string; name: string }) => {
    unwrap(await api.POST('/api/v1/auth/signup', { body }));
    // The answer's bearer token is dropped at once: the console's session is the HttpOnly cookie.
    unwrap(await api.POST('/api/v1/auth/login', { body: { email: body.email, password: body.password } }));
  });
  return (
    <AuthForm title="Create your Coffer account" submit="Create account" mutation={signup} from={from}
      other={{ question: 'Have an account?', to: '/signin', link: 'Sign in' }}
      onSubmit={({ email = '', password = '', name = '' }) => signup.mutate({ email, password, name })}>
      <Field label="Name" name="name" autoComplete="name" required />
      <Field label="Email" name="email" type="email" autoComplete="username" required />
      <Field label="Password" name="password" type="password" autoComplete="new-password" required hint="At least 12 characters" />
    </AuthForm>
  );
}
