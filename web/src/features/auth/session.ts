import { useQuery } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '../../api/client';

export const ME_KEY = ['/api/v1/me'] as const;

/** What the session's answer holds: the user and the organizations they belong to. */
export type Me = NonNullable<ReturnType<typeof useMe>['data']>;

/** The signed-in user and their organizations; null when nobody is signed in. */
export function useMe() {
  return useQuery({
    queryKey: ME_KEY,
    queryFn: async () => {
      try {
        return unwrap(await api.GET('/api/v1/me'));
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 30_000,
  });
}
