import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';

/**
 * Whether the signed-in person may do `action` at `resource` ("project", "project/env", …;
 * omitted for the organization), asked of the server's own engine (POST …/authz/check).
 * Only decides what the console offers: the server refuses whatever is sent regardless.
 * False until the answer arrives, so nothing is offered by mistake.
 */
export function useCan(org: string, action: string, resource?: string): boolean {
  const { data } = useQuery({
    queryKey: ['/api/v1/orgs/{org}/authz/check', org, action, resource ?? ''],
    queryFn: async () =>
      unwrap(
        await api.POST('/api/v1/orgs/{org}/authz/check', {
          params: { path: { org } },
          body: resource ? { action, resource } : { action },
        }),
      ),
    staleTime: 30_000,
    enabled: org !== '',
  });
  return data?.allowed === true;
}
