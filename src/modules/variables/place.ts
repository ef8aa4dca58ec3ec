import type { Environment, VariableScopeLevel } from '../../kernel/db/schema.js';
import { ENVIRONMENT_TYPES } from '../../kernel/db/schema.js';
import { AppError } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { resourceOf } from '../../kernel/authz/scope.js';
import type { Action } from '../../kernel/authz/catalogue.js';
import type { PlaceIds } from './repo.js';

/* Where a variable request acts, who may see and write there, and what a listing shows: shared by single and batch writes. */

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** The place a request's path names, at the level its route manages (the resource its route declares). */
export function placeOf(access: RequestAccess, level: VariableScopeLevel): PlaceIds {
  const place = resourceOf(access.scope, level);
  return {
    level,
    organizationId: place.organization.id,
    projectId: place.kind === 'organization' ? null : place.project.id,
    environmentId: place.kind === 'environment' || place.kind === 'service' ? place.environment.id : null,
    serviceId: place.kind === 'service' ? place.service.id : null,
  };
}

/** What an audit event about a variable names: the place, and the variable in it ("shop/production:API_KEY"). */
export function eventTarget(access: RequestAccess, level: VariableScopeLevel, id: string, name: string) {
  const place = placeName(access, level);
  return { place, target: { target_type: 'variable', target_id: id, target_name: `${place}:${name}` } };
}

function placeName(access: RequestAccess, level: VariableScopeLevel): string {
  const place = resourceOf(access.scope, level);
  switch (place.kind) {
    case 'organization':
      return `organization ${place.organization.slug}`;
    case 'project':
      return place.project.slug;
    case 'environment':
      return `${place.project.slug}/${place.environment.slug}`;
    case 'service':
      return `${place.project.slug}/${place.environment.slug}/${place.service.slug}`;
  }
}

/**
 * Writing a project variable reaches every environment of the project, so it needs
 * secret:write on every environment type there, not only on one (the route checks "some").
 * Organization variables are checked the same way by the evaluator itself.
 */
function typesMissing(access: RequestAccess, action: Action = 'secret:write'): string[] {
  const { organization, project } = resourceOf(access.scope, 'project');
  const now = new Date();
  return ENVIRONMENT_TYPES.filter((type) => {
    const environment: Environment = { id: NIL_UUID, project_id: project.id, slug: '', name: '', type, cluster_id: null, created_at: now, updated_at: now };
    return !access.can(action, { kind: 'environment', organization, project, environment });
  });
}
const typesMissingWrite = (access: RequestAccess) => typesMissing(access);

/**
 * A member's assigned variables are theirs: listed to them, and to whoever manages the
 * project's variables (secret:write on every environment type), to nobody else.
 */
export function assignedVisibleTo(access: RequestAccess, level: VariableScopeLevel): 'all' | string | null {
  if (level !== 'project' || typesMissingWrite(access).length === 0) return 'all';
  return access.principal.kind === 'user' ? access.principal.user.id : null;
}

/** `action` on every environment type of the request's project, or a 403 naming the types without it; `why` says what needs it. */
export function requireEverywhereInProject(access: RequestAccess, action: Action, why: string): void {
  const { organization, project } = resourceOf(access.scope, 'project');
  const missing = typesMissing(access, action);
  if (missing.length > 0) {
    access.refuse(action, { kind: 'project', organization, project }, new AppError('FORBIDDEN', `${why}: it needs ${action} on ${missing.join(', ')} environments of ${project.slug} too`, { action, environment_types: missing }));
  }
}

export function requireWriteEverywhereInProject(access: RequestAccess): void {
  const { organization, project } = resourceOf(access.scope, 'project');
  const missing = typesMissingWrite(access);
  if (missing.length > 0) {
    access.refuse('secret:write', { kind: 'project', organization, project }, new AppError(
      'FORBIDDEN',
      `Project variables reach every environment of ${project.slug}: they need secret:write on ${missing.join(', ')} environments too`,
      { action: 'secret:write', environment_types: missing },
    ));
  }
}

