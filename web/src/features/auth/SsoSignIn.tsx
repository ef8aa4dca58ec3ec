import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorText, Field, formValues } from '../../ui/form';
import { SsoRefusal } from './SsoRefusal';

type Provider = { id: string; name: string; start_url: string };

/** The providers for what the person typed: an email finds its verified domain's organization, anything else is a slug. */
async function providersFor(entry: string): Promise<Provider[]> {
  const at = entry.lastIndexOf('@');
  if (at >= 0) {
    const domain = entry.slice(at + 1);
    return unwrap(await api.GET('/api/v1/auth/sso/discover', { params: { query: { domain } } })).items;
  }
  return unwrap(await api.GET('/api/v1/auth/sso/{org}/providers', { params: { path: { org: entry } } })).items;
}

/**
 * Sign in with the identity provider of an organization named by its slug, or found from a
 * work email's verified domain: one provider is followed at once (a full navigation: the
 * server 302s to the IdP), several are offered.
 */
export function SsoSignIn() {
  const [choices, setChoices] = useState<Provider[] | null>(null);
  const lookup = useMutation({
    mutationFn: providersFor,
    gcTime: 0,
    onSuccess: (items) => {
      if (items.length === 1) window.location.assign(items[0]!.start_url);
      else setChoices(items);
    },
  });
  return (
    <section aria-labelledby="sso-heading">
      <h2 id="sso-heading">Sign in with SSO</h2>
      <SsoRefusal />
      <form
        onSubmit={(event) => {
          setChoices(null);
          lookup.mutate((formValues(event).org ?? '').trim().toLowerCase());
        }}>
        <Field label="Work email or organization" name="org" autoComplete="email" hint="Your work email (ada@example.com), or your organization's slug (acme)" required />
        <ErrorText error={lookup.error} />
        <button type="submit" disabled={lookup.isPending}>Continue with SSO</button>
      </form>
      {choices && (
        <ul aria-label="Identity providers">
          {choices.map((provider) => (
            <li key={provider.id}>
              <a href={provider.start_url}>Sign in with {provider.name}</a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
