import type { Invalidation } from '../../kernel/cache/invalidation.js';
import { ResolutionCache } from './resolution-cache.js';
import { assignedVisibleTo, placeOf } from './place.js';
import type { VariablesService } from './service.js';

type Page = Awaited<ReturnType<VariablesService['list']>>;

/**
 * Masked listings (GET …/variables), kept like resolved sets: per organization, dropped on
 * every instance by the same message every variable write already sends (`changed`), so
 * the next listing after a write shows it. The guard still checks the reader on every
 * request; the key holds what of the page depends on the reader (which assigned variables
 * they see). Secrets are masked in a listing, so no secret value is kept here.
 */
export function withListCache(service: VariablesService, invalidation: Invalidation): VariablesService {
  const pages = new ResolutionCache<Page>(invalidation);
  return {
    ...service,
    async list(access, level, cursor, limit) {
      const place = placeOf(access, level);
      const key = ['list', level, place.projectId, place.environmentId, place.serviceId, assignedVisibleTo(access, level), cursor ?? '', limit].join(' ');
      const hit = pages.get(place.organizationId, key);
      if (hit) return hit;
      const generation = pages.begin(place.organizationId);
      const page = await service.list(access, level, cursor, limit);
      pages.set(place.organizationId, key, generation, page);
      return page;
    },
  };
}
