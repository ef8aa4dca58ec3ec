import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { ErrorText, Page, formValues } from '../../ui/form';
import { ME_KEY } from './session';

/**
 * Signing in (or up, then in): the mutation, kept out of the mutation cache; on success the
 * page's cache starts afresh and the person goes back where they were going (a path of this
 * console only: never an address elsewhere), else home.
 */
export function useSignInMutation<Body>(mutationFn: (body: Body) => Promise<void>) {
  const navigate = useNavigate();
  const from = (useLocation().state as { from?: string } | null)?.from;
  const queries = useQueryClient();
  const mutation = useMutation({
    mutationFn,
    gcTime: 0,
    onSuccess: async () => {
      queries.clear();
      await queries.invalidateQueries({ queryKey: ME_KEY });
      navigate(from?.startsWith('/') && !from.startsWith('//') ? from : '/');
    },
  });
  return { mutation, from };
}

/** The signed-out page around a sign-in or sign-up form, with the link to the other one (keeping where the person was going). */
export function AuthForm(props: {
  title: string;
  submit: string;
  mutation: { error: unknown; isPending: boolean };
  onSubmit: (values: Record<string, string>) => void;
  from: string | undefined;
  other: { question: string; to: string; link: string };
  children: ReactNode;
  /** Another way in, shown below the form (single sign-on on the sign-in page). */
  after?: ReactNode;
}) {
  const { other, from } = props;
  return (
    <main id="main" className="narrow">
      <Page title={props.title}>
        <form onSubmit={(event) => props.onSubmit(formValues(event))}>
          {props.children}
          <ErrorText error={props.mutation.error} />
          <button type="submit" disabled={props.mutation.isPending}>{props.submit}</button>
        </form>
        {props.after}
        <p>
          {other.question} <Link to={other.to} state={from ? { from } : undefined}>{other.link}</Link>
        </p>
      </Page>
    </main>
  );
}
